// An in-memory sink for users' tests and logkit's own: keeps what it is given,
// and can be made slow or failing on purpose.

import type { LogEntry } from '../entry.js'
import type { Sink } from '../sink.js'

export interface MemorySinkOptions {
  /** Each write waits this long before resolving (default 0: resolves at once). */
  readonly delayMs?: number
  /** The first n writes reject (for retry tests). */
  readonly failFirst?: number
  /** Every write rejects (for isolation tests). */
  readonly failAlways?: boolean
  /** Resolve writes only when `release()` is called (for backpressure tests). */
  readonly manual?: boolean
}

export interface MemorySink extends Sink {
  /** Every entry written, in order. */
  readonly entries: LogEntry[]
  /** Every batch written, as given. */
  readonly batches: (readonly LogEntry[])[]
  readonly writes: number
  readonly flushes: number
  readonly closed: boolean
  /** With `manual`: resolve the writes waiting so far. */
  release(): void
  /** Writes waiting for release(). */
  readonly waiting: number
}

export function createMemorySink(options: MemorySinkOptions = {}): MemorySink {
  const entries: LogEntry[] = []
  const batches: (readonly LogEntry[])[] = []
  let writes = 0
  let flushes = 0
  let closed = false
  let waiters: (() => void)[] = []
  return {
    entries,
    batches,
    get writes() {
      return writes
    },
    get flushes() {
      return flushes
    },
    get closed() {
      return closed
    },
    get waiting() {
      return waiters.length
    },
    release() {
      const ready = waiters
      waiters = []
      for (const resolve of ready) resolve()
    },
    async write(batch) {
      writes++
      if (options.failAlways || writes <= (options.failFirst ?? 0))
        throw new Error(`memory sink write ${writes} failed on purpose`)
      if (options.manual) await new Promise<void>((resolve) => waiters.push(resolve))
      else if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
      batches.push(batch)
      for (const entry of batch) entries.push(entry)
    },
    flush() {
      flushes++
    },
    close() {
      closed = true
    },
  }
}
