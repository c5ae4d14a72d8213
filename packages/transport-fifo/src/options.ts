// Option schemas of the sources, made with the zod core re-exports, so that a
// definition's schema is an instance of the very zod core validates with.
// Validation is pure (no I/O); defaults live here and in the README's tables.
// The producer's options are checked without zod (transport-options.ts).

import type { Readable } from 'node:stream'
import { z } from '@logkit/core/options'
import type { RuntimeEnv } from '@logkit/core/producer'

const env = z
  .custom<RuntimeEnv>((v) => v !== null && typeof v === 'object', 'an object of environment variables')
  .optional()

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
