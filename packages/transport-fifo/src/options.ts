// Option schemas, made with the zod core re-exports, so that a definition's
// schema is an instance of the very zod core validates with. Validation is
// pure (no I/O); defaults live here and in the README's tables.

import type { Readable } from 'node:stream'
import { z } from '@logkit/core/options'
import type { RuntimeEnv } from '@logkit/core/producer'

const env = z
  .custom<RuntimeEnv>((v) => v !== null && typeof v === 'object', 'an object of environment variables')
  .optional()

export const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024

export const fifoTransportOptions = z.object({
  /** The app whose collector to log into. */
  app: z.string().min(1),
  /** The module that logs; names the pipe (default: app). */
  source: z.string().min(1).optional(),
  /** Where to look for the runtime directory (default process.env). */
  env,
  /** Most bytes of frames held while no collector reads or the pipe is full. */
  bufferBytes: z.number().int().min(1024).default(DEFAULT_BUFFER_BYTES),
  /**
   * What a write into a full buffer does. `block`: while a collector reads the
   * pipe, write to it synchronously, waiting at most blockMs for room, then
   * drop; with no collector, drop at once. `drop` (or `drop_newest`): refuse
   * the new frame. `drop_oldest`: evict the oldest waiting frames. Every drop
   * is counted.
   */
  policy: z.enum(['block', 'drop', 'drop_newest', 'drop_oldest']).default('block'),
  /** Longest a write waits under `block` for the pipe to take enough of the buffer. */
  blockMs: z.number().int().min(0).default(100),
  /** Interval of heartbeats; 0 sends none. */
  heartbeatMs: z.number().int().min(0).default(10_000),
  /** Longest wait between attempts to find or reach a collector. */
  retryMs: z.number().int().min(1).default(1000),
  /** How long flush() waits for a collector to take the data. */
  flushTimeoutMs: z.number().int().min(0).default(5000),
  /**
   * How long close() waits for a collector to come (back) and take what is
   * buffered, even when none runs right now (a restart takes about a second).
   * What it then gives up is counted, warned about and left in a note for the
   * next collector.
   */
  closeTimeoutMs: z.number().int().min(0).default(5000),
  /** Called with problems that stop the transport from reaching a collector (default: a process warning). */
  onError: z.custom<(err: Error) => void>((v) => typeof v === 'function', 'a function').optional(),
})

export type FifoTransportOptions = z.input<typeof fifoTransportOptions>

export const fifoSourceOptions = z.object({
  /** The app to collect for (default: the manifest's app). */
  app: z.string().min(1).optional(),
  env,
  /** How often the directory is rescanned, producers checked for life and heartbeats for lateness. */
  scanMs: z.number().int().min(10).default(1000),
  /** How late past its promised check-in a producer may be before a heartbeat_missed warning. */
  heartbeatGraceMs: z.number().int().min(0).default(5000),
  /** Largest frame accepted; larger ones are skipped and counted. */
  maxFrameSize: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
})

export type FifoSourceOptions = z.input<typeof fifoSourceOptions>

export const stdinSourceOptions = z.object({
  /** The stream to read (default process.stdin); for tests and embedding. */
  stream: z
    .custom<Readable>(
      (v) => v !== null && typeof v === 'object' && typeof (v as Readable).on === 'function',
      'a readable stream',
    )
    .optional(),
  /** Source of entries whose line does not name one. */
  source: z.string().min(1).default('stdin'),
  /** Longest line kept; the rest of a longer line is cut off and counted. */
  maxLineBytes: z
    .number()
    .int()
    .min(64)
    .default(64 * 1024),
})

export type StdinSourceOptions = z.input<typeof stdinSourceOptions>
