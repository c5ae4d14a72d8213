// The producer's options, checked without zod: a worker that only logs does
// not load a schema library for eleven options (zod alone costs a worker's
// start-up more than loading pino does). The transport is no manifest
// component, so no JSON Schema is made from these; the check is the only one
// and throws what validateOptions throws for a component: code
// LOGKIT_ERR_OPTIONS_INVALID, every offending option named, details.issues.
// Defaults live here and in the README's table.

import { LogkitError, type RuntimeEnv } from '@logkit/core/producer'

export type BufferPolicyOption = 'block' | 'drop' | 'drop_newest' | 'drop_oldest'

export interface FifoTransportOptions {
  /** The app whose collector to log into. */
  readonly app: string
  /** The module that logs; names the pipe (default: app). */
  readonly source?: string | undefined
  /** Where to look for the runtime directory (default process.env). */
  readonly env?: RuntimeEnv | undefined
  /** Most bytes of frames held while no collector reads or the pipe is full (default 4 MiB). */
  readonly bufferBytes?: number | undefined
  /**
   * What a write into a full buffer does (default block). `block`: while a
   * collector reads the pipe, write to it synchronously, waiting at most
   * blockMs for room, then drop; with no collector, drop at once. `drop` (or
   * `drop_newest`): refuse the new frame. `drop_oldest`: evict the oldest
   * waiting frames. Every drop is counted.
   */
  readonly policy?: BufferPolicyOption | undefined
  /** Longest a write waits under `block` for the pipe to take enough of the buffer (default 100). */
  readonly blockMs?: number | undefined
  /** Interval of heartbeats; 0 sends none (default 10000). */
  readonly heartbeatMs?: number | undefined
  /** Longest wait between attempts to find or reach a collector (default 1000). */
  readonly retryMs?: number | undefined
  /** How long flush() waits for a collector to take the data (default 5000). */
  readonly flushTimeoutMs?: number | undefined
  /**
   * How long close() waits for a collector to come (back) and take what is
   * buffered, even when none runs right now (a restart takes about a second).
   * What it then gives up is counted, warned about and left in a note for the
   * next collector (default 5000).
   */
  readonly closeTimeoutMs?: number | undefined
  /** Called with problems that stop the transport from reaching a collector (default: a process warning). */
  readonly onError?: ((err: Error) => void) | undefined
}

type Defaulted =
  | 'bufferBytes'
  | 'policy'
  | 'blockMs'
  | 'heartbeatMs'
  | 'retryMs'
  | 'flushTimeoutMs'
  | 'closeTimeoutMs'

export type ParsedFifoTransportOptions = FifoTransportOptions &
  Required<Pick<FifoTransportOptions, Defaulted>>

export const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024

/** The integer options: their least value and their default. */
const integers = {
  bufferBytes: { min: 1024, default: DEFAULT_BUFFER_BYTES },
  blockMs: { min: 0, default: 100 },
  heartbeatMs: { min: 0, default: 10_000 },
  retryMs: { min: 1, default: 1000 },
  flushTimeoutMs: { min: 0, default: 5000 },
  closeTimeoutMs: { min: 0, default: 5000 },
} as const

const policies: readonly BufferPolicyOption[] = ['block', 'drop', 'drop_newest', 'drop_oldest']

interface Issue {
  readonly path: string[]
  readonly message: string
  readonly code: string
}

/** The options with their defaults filled in; throws LOGKIT_ERR_OPTIONS_INVALID naming every bad one. */
export function parseTransportOptions(raw: unknown): ParsedFifoTransportOptions {
  if (raw === null || typeof raw !== 'object') {
    throw invalid([{ path: [], message: 'expected an object of options', code: 'invalid_type' }])
  }
  const options = raw as Record<string, unknown>
  const issues: Issue[] = []
  const check = (key: string, ok: boolean, expected: string) => {
    if (!ok)
      issues.push({
        path: [key],
        message: `expected ${expected}, got ${describe(options[key])}`,
        code: 'invalid_value',
      })
  }
  check('app', isName(options['app']), 'a non-empty string')
  if (options['source'] !== undefined) check('source', isName(options['source']), 'a non-empty string')
  if (options['env'] !== undefined)
    check('env', isObject(options['env']), 'an object of environment variables')
  if (options['policy'] !== undefined)
    check(
      'policy',
      policies.includes(options['policy'] as BufferPolicyOption),
      `one of ${policies.join(', ')}`,
    )
  if (options['onError'] !== undefined)
    check('onError', typeof options['onError'] === 'function', 'a function')
  const parsed: Record<string, unknown> = { ...options, policy: options['policy'] ?? 'block' }
  for (const [key, { min, default: fallback }] of Object.entries(integers)) {
    const value = options[key]
    if (value === undefined) parsed[key] = fallback
    else check(key, Number.isSafeInteger(value) && (value as number) >= min, `an integer ≥ ${min}`)
  }
  if (issues.length > 0) throw invalid(issues)
  return parsed as unknown as ParsedFifoTransportOptions
}

function isName(v: unknown): boolean {
  return typeof v === 'string' && v.length > 0
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object'
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' ? String(v) : typeof v
}

function invalid(issues: Issue[]): LogkitError {
  const lines = issues.map((i) => `option "${i.path.join('.') || '(options)'}": ${i.message}`)
  return new LogkitError('LOGKIT_ERR_OPTIONS_INVALID', `transport "fifo": ${lines.join('; ')}`, {
    details: { name: 'fifo', kind: 'transport', issues },
  })
}
