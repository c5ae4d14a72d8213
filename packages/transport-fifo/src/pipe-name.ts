// Producer pipes are named SOURCE.PID.fifo in the app's directory, so the
// collector knows whose pipe it is (and whether that process still lives)
// before a single byte has arrived. The checkpoint beside each pipe is the
// collector's note of the last seq it delivered from it (checkpoint.ts).

const SUFFIX = '.fifo'
const NAME = /^(.+)\.(\d+)\.fifo$/
const MAX_SOURCE = 100

/** A source name as one safe file-name segment: letters, digits, '.', '_', '-'; not hidden. */
export function sanitizeSource(source: string): string {
  const clean = source.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, MAX_SOURCE)
  if (clean === '') return '_'
  return clean.startsWith('.') ? `_${clean.slice(1)}` : clean
}

/**
 * `web.1234.fifo`; `n` > 1 names a further pipe of the same source in one
 * thread (`web-2.1234.fifo`); a worker thread's names carry its threadId
 * (`web@3.1234.fifo`, `web@3-2.1234.fifo`). A sanitized source never holds
 * '@', so names of different threads of one process can never be equal:
 * each thread only needs to keep its own names apart.
 */
export function pipeFileName(source: string, pid: number, n = 1, thread = 0): string {
  const base = thread > 0 ? `${sanitizeSource(source)}@${thread}` : sanitizeSource(source)
  return `${n > 1 ? `${base}-${n}` : base}.${pid}${SUFFIX}`
}

export interface ParsedPipeName {
  readonly source: string
  readonly pid: number
}

/** The source and pid a pipe's name says, or undefined for a name that is not a producer pipe. */
export function parsePipeName(name: string): ParsedPipeName | undefined {
  const m = NAME.exec(name)
  if (m === null) return undefined
  const pid = Number(m[2])
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined
  return { source: m[1] as string, pid }
}

/** The checkpoint file that goes with a pipe. */
export function checkpointFileName(pipeName: string): string {
  return `${pipeName}.ack`
}

/** The pipe a checkpoint file belongs to, or undefined when `name` is not a checkpoint. */
export function pipeOfCheckpoint(name: string): string | undefined {
  if (!name.endsWith(`${SUFFIX}.ack`)) return undefined
  const pipe = name.slice(0, -'.ack'.length)
  return parsePipeName(pipe) === undefined ? undefined : pipe
}
