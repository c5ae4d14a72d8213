// `rateLimit`: a token bucket per subscription, optionally one per key, with
// what it drops counted and summarised as one warning entry per interval. The
// summary is the "dropped" event that keeps a drop from being silent: it flows
// down the pipeline with the entries (so a sink shows where the gap is), and
// the same count goes to the diagnostic reporter.

import {
  asyncScheduler,
  defer,
  filter,
  finalize,
  type MonoTypeOperatorFunction,
  merge,
  type SchedulerLike,
  Subject,
  type Subscription,
  tap,
} from 'rxjs'
import { z } from 'zod'
import type { DiagnosticReporter } from '../diagnostics.js'
import { createEntry, type LogEntry } from '../entry.js'
import { levelName } from '../levels.js'
import { defineOperator, PLUGIN_API_VERSION } from '../plugin.js'
import { msToNs } from '../time.js'
import { invalidOption } from './options.js'

/** What separates entries into buckets: an entry property, a field path (`'fields.user.id'`) or a function. */
export type RateLimitKey = 'source' | 'app' | 'level' | `fields.${string}` | ((entry: LogEntry) => string)

export interface RateLimitOptions {
  /** Entries admitted per second (per key, when `key` is given). */
  readonly perSecond: number
  /** Entries a burst may use at once: the bucket's size. Default `perSecond`. */
  readonly burst?: number
  /**
   * One bucket per value of this key instead of one for all: `'source'`,
   * `'app'`, `'level'` (by level name), `'fields.<path>'`, or a function.
   */
  readonly key?: RateLimitKey
  /** Most buckets kept; the least recently used is forgotten (and starts full when seen again). Default 10000. */
  readonly maxKeys?: number
  /** How often, at most, a summary of drops is emitted. Default 1000 ms. */
  readonly summaryIntervalMs?: number
  /** Clock and timers; TestScheduler.run() makes it virtual. Default asyncScheduler. */
  readonly scheduler?: SchedulerLike
  /** Told of every summary, as a `dropped` diagnostic with its count. */
  readonly report?: DiagnosticReporter | undefined
}

/** Keys listed in a summary's `byKey`, busiest first. */
const SUMMARY_TOP_KEYS = 10
/** Distinct keys counted per interval; drops of further keys count in the total only. */
const SUMMARY_TRACKED_KEYS = 1000

interface Bucket {
  tokens: number
  last: number
}

function keyFunction(key: RateLimitKey | undefined): ((entry: LogEntry) => string) | undefined {
  if (key === undefined || typeof key === 'function') return key
  if (key === 'source') return (entry) => entry.source
  if (key === 'app') return (entry) => entry.app
  if (key === 'level') return (entry) => levelName(entry.level)
  if (key.startsWith('fields.') && key.length > 'fields.'.length) {
    const path = key.slice('fields.'.length).split('.')
    return (entry) => {
      const value = entry.fields.get(path)
      return value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
    }
  }
  throw invalidOption(
    'rateLimit',
    'key',
    `expected 'source', 'app', 'level' or 'fields.<path>', found ${JSON.stringify(key)}`,
  )
}

function checkOptions(perSecond: number, burst: number, maxKeys: number, summaryIntervalMs: number): void {
  if (!(Number.isFinite(perSecond) && perSecond > 0)) {
    throw invalidOption('rateLimit', 'perSecond', `expected a number above 0, found ${String(perSecond)}`)
  }
  if (!(Number.isFinite(burst) && burst >= 1)) {
    throw invalidOption('rateLimit', 'burst', `expected a number of at least 1, found ${String(burst)}`)
  }
  if (!(Number.isInteger(maxKeys) && maxKeys >= 1)) {
    throw invalidOption(
      'rateLimit',
      'maxKeys',
      `expected a whole number of at least 1, found ${String(maxKeys)}`,
    )
  }
  if (!(Number.isFinite(summaryIntervalMs) && summaryIntervalMs > 0)) {
    throw invalidOption(
      'rateLimit',
      'summaryIntervalMs',
      `expected a number of ms above 0, found ${String(summaryIntervalMs)}`,
    )
  }
}

function entries(count: number): string {
  return count === 1 ? '1 entry' : `${count} entries`
}

/** `1000` → `'1s'`, `250` → `'250ms'`, `90000` → `'90s'`. */
function interval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}

/**
 * Admits at most `burst` entries at once and `perSecond` on average, with one
 * token bucket per subscription, or per key when `key` is given. The entries
 * it drops are counted; for each interval of `summaryIntervalMs` in which it
 * dropped some, it emits one warn entry (source `logkit`) saying how many,
 * with `fields.dropped` and, when keyed, `fields.byKey` (the busiest keys), and
 * reports the same count as a `dropped` diagnostic. A summary still pending
 * when the source completes or errors is emitted before that.
 *
 * @example
 * ```ts
 * entries$.pipe(rateLimit({ perSecond: 100, burst: 200, key: 'source' }))
 * // … and once a second while it drops:
 * // {"level":40,…,"name":"logkit","dropped":12,"byKey":{"db":12},"msg":"rateLimit dropped 12 entries in the last 1s"}
 * ```
 *
 * @param options See RateLimitOptions.
 */
export function rateLimit({
  perSecond,
  burst = perSecond,
  key,
  maxKeys = 10_000,
  summaryIntervalMs = 1000,
  scheduler = asyncScheduler,
  report,
}: RateLimitOptions): MonoTypeOperatorFunction<LogEntry> {
  checkOptions(perSecond, burst, maxKeys, summaryIntervalMs)
  const keyOf = keyFunction(key)
  const per = interval(summaryIntervalMs)

  return (source) =>
    defer(() => {
      // Everything below is per subscription: defer() gives each its own buckets and counts.
      // A Map iterates in insertion order, so re-inserting on use keeps the least recently used first.
      const buckets = new Map<string, Bucket>()
      const single: Bucket = { tokens: burst, last: scheduler.now() }
      const summaries = new Subject<LogEntry>()
      let dropped = 0
      // The summary speaks for the app whose entries it dropped.
      let app = ''
      const droppedByKey = new Map<string, number>()
      let timer: Subscription | undefined

      const keyFor = (entry: LogEntry, keyOf: (entry: LogEntry) => string): string => {
        try {
          return keyOf(entry)
        } catch (error) {
          // A key function that fails for one entry must not stop the stream; the entry shares the '' bucket.
          report?.({
            code: 'key_failed',
            message: `rateLimit key function threw (${(error as Error)?.message ?? String(error)}); the entry was limited in the shared '' bucket`,
            count: 1,
          })
          return ''
        }
      }

      const bucketOf = (key: string): Bucket => {
        let bucket = buckets.get(key)
        if (bucket === undefined) {
          bucket = { tokens: burst, last: scheduler.now() }
          if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string)
        } else {
          buckets.delete(key)
        }
        buckets.set(key, bucket)
        return bucket
      }

      const summarise = (): void => {
        timer?.unsubscribe()
        timer = undefined
        if (dropped === 0) return
        const count = dropped
        const top = [...droppedByKey].sort((a, b) => b[1] - a[1]).slice(0, SUMMARY_TOP_KEYS)
        dropped = 0
        droppedByKey.clear()
        const msg = `rateLimit dropped ${entries(count)} in the last ${per}`
        const byKey = keyOf === undefined ? undefined : Object.fromEntries(top)
        // The summary entry below says it already: the runtime counts this, makes no second entry.
        report?.({
          code: 'dropped',
          message: msg,
          count,
          emitted: true,
          details: byKey === undefined ? { reason: 'rate_limit' } : { reason: 'rate_limit', byKey },
        })
        summaries.next(
          createEntry({
            time: msToNs(scheduler.now()),
            level: 40,
            app,
            source: 'logkit',
            msg,
            fields: byKey === undefined ? { dropped: count } : { dropped: count, byKey },
          }),
        )
      }

      const admit = (entry: LogEntry): boolean => {
        const k = keyOf === undefined ? undefined : keyFor(entry, keyOf)
        const bucket = k === undefined ? single : bucketOf(k)
        const now = scheduler.now()
        bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.last) / 1000) * perSecond)
        bucket.last = now
        if (bucket.tokens >= 1) {
          bucket.tokens -= 1
          return true
        }
        dropped += 1
        app = entry.app
        if (k !== undefined) {
          const seen = droppedByKey.get(k)
          if (seen !== undefined) droppedByKey.set(k, seen + 1)
          else if (droppedByKey.size < SUMMARY_TRACKED_KEYS) droppedByKey.set(k, 1)
        }
        // The first drop of an interval starts it; an interval without drops costs no timer.
        timer ??= scheduler.schedule(summarise, summaryIntervalMs)
        return false
      }

      const admitted = source.pipe(
        filter(admit),
        tap({
          complete: () => {
            summarise()
            summaries.complete()
          },
          error: () => summarise(),
        }),
        finalize(() => {
          // Unsubscribed before completion: no one to emit a summary to, but the count is still reported.
          timer?.unsubscribe()
          timer = undefined
          if (dropped > 0) {
            report?.({
              code: 'dropped',
              message: `rateLimit dropped ${entries(dropped)} before it was unsubscribed`,
              count: dropped,
            })
            dropped = 0
          }
        }),
      )
      // Subscribe to the summaries first: a synchronous source may complete (and summarise) within subscribe.
      return merge(summaries, admitted)
    })
}

/** The manifest's `use: rateLimit`. */
export const rateLimitDefinition = defineOperator({
  name: 'rateLimit',
  apiVersion: PLUGIN_API_VERSION,
  description:
    'Admit at most perSecond entries (burst at once), per key if given; summarise drops as a warn entry.',
  options: z.strictObject({
    perSecond: z
      .number({ error: 'expected a number of entries per second, e.g. 1000' })
      .positive({ error: 'expected a number of entries per second above 0' }),
    burst: z
      .number({ error: 'expected the number of entries a burst may use, e.g. 2000' })
      .min(1, { error: 'expected a burst of at least 1 entry' })
      .optional(),
    key: z
      .union([z.enum(['source', 'app', 'level']), z.string().regex(/^fields\.[^.]+(\.[^.]+)*$/)], {
        error: "expected 'source', 'app', 'level' or a field path such as 'fields.user.id'",
      })
      .optional(),
    maxKeys: z
      .number({ error: 'expected the most buckets to keep, e.g. 10000' })
      .int({ error: 'expected a whole number of buckets' })
      .min(1, { error: 'expected at least 1 bucket' })
      .optional(),
    summaryIntervalMs: z
      .number({ error: 'expected an interval in milliseconds, e.g. 1000' })
      .positive({ error: 'expected an interval above 0 ms' })
      .optional(),
  }),
  create: (options, ctx) =>
    rateLimit({
      ...options,
      key: options.key as RateLimitKey | undefined,
      scheduler: ctx.scheduler ?? asyncScheduler,
      report: ctx.report,
    }),
})
