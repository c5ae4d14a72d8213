// `dedupe`: drops an entry whose (hostname, pid, seq, time) was seen within a
// bounded window, the way at-least-once delivery is made exactly-once at the
// end of a pipeline (a JetStream message redelivered after a collector was
// killed, a shm ring re-read after a crash). Each producer numbers its entries
// (seq 1, 2, …), so (hostname, pid, seq) names one log call of one process;
// the time it was logged at (nanoseconds) tells two processes apart that had
// the same pid on the same host (a container restarted: pid 1 again, seq 1
// again), whose first entries would otherwise be taken for repeats. A repeat
// is a copy of the same bytes, so its time is the same. An entry without a
// seq (0: made by a collector, read from text) is always kept.
//
// The window is bounded twice: at most `maxEntries` keys, the oldest forgotten
// first, and (with `windowMs`) none older than that by the scheduler's clock.
// A duplicate that arrives after its first copy was forgotten is kept: size
// the window by how late a redelivery can come (the consumer's ack wait).
// What it removes is counted and reported as `dropped` (reason `duplicate`),
// at most once per `reportIntervalMs`.

import {
  asyncScheduler,
  defer,
  finalize,
  type MonoTypeOperatorFunction,
  type SchedulerLike,
  type Subscription,
  tap,
} from 'rxjs'
import { z } from 'zod'
import type { DiagnosticReporter } from '../diagnostics.js'
import type { LogEntry } from '../entry.js'
import { defineOperator, PLUGIN_API_VERSION } from '../plugin.js'
import { type EntryBatch, isEntryBatch } from '../wire/entry-batch.js'
import { SPAN_HOSTNAME } from '../wire/entry-index.js'
import { KeptRows, selectEach, takingBatches } from './batch-aware.js'
import { invalidOption } from './options.js'
import { SpanMemo } from './span-memo.js'

export interface DedupeOptions {
  /** Keys remembered at most; the oldest is forgotten first. Default 100 000. */
  readonly maxEntries?: number
  /** Keys older than this are forgotten, in ms (0: only maxEntries bounds the window). Default 300 000. */
  readonly windowMs?: number
  /** How often, at most, removed entries are reported. Default 1000 ms. */
  readonly reportIntervalMs?: number
  /** Clock and timers; TestScheduler.run() makes it virtual. Default asyncScheduler. */
  readonly scheduler?: SchedulerLike
  /** Told of what was removed, as a `dropped` diagnostic with its count. */
  readonly report?: DiagnosticReporter | undefined
}

const same = (text: string): string => text

/** One subscription's window and count. */
class Window {
  // A Map iterates in insertion order: the first key is the oldest.
  readonly #seen = new Map<string, number>()
  readonly #hosts = new SpanMemo(SPAN_HOSTNAME, same)
  readonly #kept = new KeptRows()
  #removed = 0
  #timer: Subscription | undefined

  constructor(
    readonly maxEntries: number,
    readonly windowMs: number,
    readonly reportIntervalMs: number,
    readonly scheduler: SchedulerLike,
    readonly report: DiagnosticReporter | undefined,
  ) {}

  /** True when the key is new (and now remembered); the time as its two uint32 halves. */
  #first(host: string, pid: number, seq: number, timeHi: number, timeLo: number): boolean {
    if (seq === 0) return true
    const seen = this.#seen
    const now = this.scheduler.now()
    if (this.windowMs > 0) {
      // Forget what is older than the window first: a key seen before it is new again.
      const oldest = now - this.windowMs
      for (const [k, at] of seen) {
        if (at >= oldest) break
        seen.delete(k)
      }
    }
    const key = `${host}\0${pid}\0${seq}\0${timeHi}\0${timeLo}`
    if (seen.has(key)) return false
    if (seen.size >= this.maxEntries) seen.delete(seen.keys().next().value as string)
    seen.set(key, now)
    return true
  }

  entry(entry: LogEntry): LogEntry | undefined {
    const time = entry.time
    if (this.#first(entry.hostname, entry.pid, entry.seq, Number(time >> 32n), Number(time & 0xffffffffn))) {
      return entry
    }
    this.#remove(1)
    return undefined
  }

  batch(batch: EntryBatch): EntryBatch | undefined {
    const index = batch.index
    const room = this.#kept.room(batch.length)
    let n = 0
    for (let k = 0; k < batch.length; k++) {
      const row = batch.row(k)
      const host = this.#hosts.get(index, row)
      const pid = index.pid[row] as number
      const seq = index.seq[row] as number
      if (this.#first(host, pid, seq, index.timeHi[row] as number, index.timeLo[row] as number)) {
        room[n++] = row
      }
    }
    if (n < batch.length) this.#remove(batch.length - n)
    return this.#kept.selection(batch, n)
  }

  #remove(count: number): void {
    this.#removed += count
    // The first removal of an interval starts it; an interval without any costs no timer.
    this.#timer ??= this.scheduler.schedule(() => this.flush(), this.reportIntervalMs)
  }

  /** Reports what was removed since the last report. */
  flush(): void {
    this.#timer?.unsubscribe()
    this.#timer = undefined
    if (this.#removed === 0) return
    const count = this.#removed
    this.#removed = 0
    this.report?.({
      code: 'dropped',
      message: `dedupe removed ${count === 1 ? '1 entry' : `${count} entries`} seen before (same hostname, pid, seq and time)`,
      count,
      details: { reason: 'duplicate' },
    })
  }
}

/**
 * Drops entries whose (hostname, pid, seq, time) it has seen within its window:
 * at most `maxEntries` keys, none older than `windowMs`. Entries without a
 * seq are kept. What it drops is reported as a `dropped` diagnostic (reason
 * `duplicate`) with its count, at most once per `reportIntervalMs`, and when
 * the source completes.
 *
 * In the collector it takes batches of entries that are still bytes
 * (EntryBatch) and reads the key from their bytes without decoding.
 *
 * @example
 * ```ts
 * redelivered$.pipe(dedupe({ maxEntries: 100_000, windowMs: 300_000 }))
 * ```
 *
 * @param options See DedupeOptions.
 */
export function dedupe({
  maxEntries = 100_000,
  windowMs = 300_000,
  reportIntervalMs = 1000,
  scheduler = asyncScheduler,
  report,
}: DedupeOptions = {}): MonoTypeOperatorFunction<LogEntry> {
  if (!(Number.isInteger(maxEntries) && maxEntries >= 1)) {
    throw invalidOption(
      'dedupe',
      'maxEntries',
      `expected a whole number of at least 1, found ${String(maxEntries)}`,
    )
  }
  if (!(Number.isFinite(windowMs) && windowMs >= 0)) {
    throw invalidOption('dedupe', 'windowMs', `expected a number of ms, 0 or more, found ${String(windowMs)}`)
  }
  return takingBatches((source) =>
    defer(() => {
      // Per subscription: defer() gives each its own window.
      const window = new Window(maxEntries, windowMs, reportIntervalMs, scheduler, report)
      return source.pipe(
        selectEach((item) => (isEntryBatch(item) ? window.batch(item) : window.entry(item))),
        tap({ complete: () => window.flush(), error: () => window.flush() }),
        finalize(() => window.flush()),
      )
    }),
  )
}

/** The manifest's `use: dedupe`. */
export const dedupeDefinition = defineOperator({
  name: 'dedupe',
  apiVersion: PLUGIN_API_VERSION,
  description:
    'Drop entries whose (hostname, pid, seq, time) was seen within a window (count and time); count them.',
  options: z.strictObject({
    maxEntries: z
      .number({ error: 'expected the most entries to remember, e.g. 100000' })
      .int({ error: 'expected a whole number of entries' })
      .min(1, { error: 'expected at least 1 entry' })
      .optional(),
    windowMs: z
      .number({ error: 'expected a window in milliseconds, e.g. 300000' })
      .min(0, { error: 'expected a window of 0 ms or more (0: by count only)' })
      .optional(),
    reportIntervalMs: z
      .number({ error: 'expected an interval in milliseconds, e.g. 1000' })
      .positive({ error: 'expected an interval above 0 ms' })
      .optional(),
  }),
  create: (options, ctx) =>
    dedupe({ ...options, scheduler: ctx.scheduler ?? asyncScheduler, report: ctx.report }),
})
