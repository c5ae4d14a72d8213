// `batch`: group entries into arrays for sinks that write many at once. It
// holds entries (so it is branded with markHolding and its definition says
// `holds: true`), and it lets go of them on every occasion a pipeline needs:
// full, old enough, flushed, completed.

import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs'
import { z } from 'zod'
import type { LogEntry } from '../entry.js'
import { defineOperator, PLUGIN_API_VERSION } from '../plugin.js'
import { markHolding } from './holds.js'
import { invalidOption } from './options.js'

export interface BatchOptions {
  /** Emit when this many entries are held. Default 100. */
  readonly size?: number
  /** Emit this long after the first entry of a batch arrived, if it is not full by then. Default 1000 ms. */
  readonly maxWaitMs?: number
  /** Emit what is held whenever this emits (the pipeline's flushes). */
  readonly flush?: Observable<unknown> | undefined
  /** Clock and timers; TestScheduler.run() makes it virtual. Default asyncScheduler. */
  readonly scheduler?: SchedulerLike | undefined
}

/**
 * Collects entries into arrays: emits when `size` entries are held, or
 * `maxWaitMs` after the first entry of the batch arrived, whichever comes
 * first; emits what is held whenever `flush` emits, and when the source
 * completes or errors (before passing the error on). Never emits an empty
 * array.
 *
 * The returned function is branded with markHolding: entries stay in it past
 * the call that gave them.
 *
 * @example
 * ```ts
 * entries$.pipe(batch({ size: 500, maxWaitMs: 200, flush: flushes$ }))
 *   .subscribe((entries) => sink.write(entries))
 * ```
 *
 * @param options See BatchOptions.
 */
export function batch({
  size = 100,
  maxWaitMs = 1000,
  flush,
  scheduler = asyncScheduler,
}: BatchOptions = {}): OperatorFunction<LogEntry, LogEntry[]> {
  if (!(Number.isInteger(size) && size >= 1)) {
    throw invalidOption('batch', 'size', `expected a whole number of at least 1, found ${String(size)}`)
  }
  if (!(Number.isFinite(maxWaitMs) && maxWaitMs >= 0)) {
    throw invalidOption(
      'batch',
      'maxWaitMs',
      `expected a number of ms of at least 0, found ${String(maxWaitMs)}`,
    )
  }
  return markHolding(
    (source: Observable<LogEntry>) =>
      // The subscribe function is the per-subscription scope (as defer's factory
      // would be): each subscriber gets its own batch and timer.
      new Observable<LogEntry[]>((subscriber) => {
        let held: LogEntry[] = []
        let timer: Subscription | undefined

        const emit = (): void => {
          timer?.unsubscribe()
          timer = undefined
          if (held.length === 0) return
          const out = held
          held = []
          subscriber.next(out)
        }
        const fail = (error: unknown): void => {
          emit()
          subscriber.error(error)
        }

        const flushing = flush?.subscribe({ next: emit, error: fail })
        const upstream = source.subscribe({
          next(entry) {
            held.push(entry)
            if (held.length >= size) emit()
            else if (held.length === 1) timer = scheduler.schedule(emit, maxWaitMs)
          },
          error: fail,
          complete() {
            emit()
            subscriber.complete()
          },
        })
        return () => {
          timer?.unsubscribe()
          flushing?.unsubscribe()
          upstream.unsubscribe()
        }
      }),
    // Given the pipeline's flush notifier, everything held comes out on each flush.
    { emitsOnFlush: flush !== undefined },
  )
}

/** The manifest's `use: batch`. */
export const batchDefinition = defineOperator({
  name: 'batch',
  apiVersion: PLUGIN_API_VERSION,
  description: 'Group entries into arrays by size and time; emit what is held on flush and on completion.',
  holds: true,
  options: z.strictObject({
    size: z
      .number({ error: 'expected the number of entries in a batch, e.g. 100' })
      .int({ error: 'expected a whole number of entries' })
      .min(1, { error: 'expected a batch of at least 1 entry' })
      .optional(),
    maxWaitMs: z
      .number({ error: 'expected the longest wait in milliseconds, e.g. 1000' })
      .min(0, { error: 'expected a wait of at least 0 ms' })
      .optional(),
  }),
  create: (options, ctx) => batch({ ...options, flush: ctx.flushes, scheduler: ctx.scheduler }),
})
