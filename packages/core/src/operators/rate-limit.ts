// `rateLimit`: a token bucket per subscription, optionally one per key, with
// what it drops counted and summarised as one warning entry per interval. The
// summary is the "dropped" event that keeps a drop from being silent: it flows
// down the pipeline with the entries (so a sink shows where the gap is), and
// the same count goes to the diagnostic reporter.

import {
  asyncScheduler,
  defer,
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
import { Fields } from '../fields.js'
import { levelName } from '../levels.js'
import { defineOperator, PLUGIN_API_VERSION } from '../plugin.js'
import { msToNs } from '../time.js'
import { type EntryBatch, isEntryBatch } from '../wire/entry-batch.js'
import { SPAN_APP, SPAN_FIELDS, SPAN_SOURCE } from '../wire/entry-index.js'
import { KeptRows, selectEach, takingBatches } from './batch-aware.js'
import { invalidOption } from './options.js'
import { SpanMemo } from './span-memo.js'

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

/**
 * How a key is read, from an entry and from a batch's k-th entry: the same
 * string for the same entry. Made per subscription (a batch reader may keep a
 * memo).
 */
interface KeyReader {
  entry(entry: LogEntry): string
  /** null when the entry's bytes no longer decode (function keys only; see Limiter.batch). */
  row(batch: EntryBatch, k: number): string | null
}

const same = (text: string): string => text

/** A span's string, from its bytes through a memo: no decoding for a name seen before. */
function spanKey(span: number, of: (entry: LogEntry) => string): () => KeyReader {
  return () => {
    const memo = new SpanMemo(span, same)
    return { entry: of, row: (batch, k) => memo.get(batch.index, batch.row(k)) }
  }
}

/** The KeyReader a key stands for (made per subscription); throws here, when the operator is made, for an unknown key. */
function keyReader(key: RateLimitKey | undefined): (() => KeyReader) | undefined {
  if (key === undefined) return undefined
  if (typeof key === 'function') {
    const reader: KeyReader = {
      entry: key,
      row: (batch, k) => {
        let entry: LogEntry
        try {
          entry = batch.entry(k)
        } catch {
          return null
        }
        return key(entry)
      },
    }
    return () => reader
  }
  if (key === 'source') return spanKey(SPAN_SOURCE, (entry) => entry.source)
  if (key === 'app') return spanKey(SPAN_APP, (entry) => entry.app)
  if (key === 'level') {
    const reader: KeyReader = {
      entry: (entry) => levelName(entry.level),
      row: (batch, k) => levelName(batch.index.level[batch.row(k)] as number),
    }
    return () => reader
  }
  if (key.startsWith('fields.') && key.length > 'fields.'.length) {
    const path = key.slice('fields.'.length).split('.')
    const of = (fields: Fields): string => {
      const value = fields.get(path)
      return value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
    }
    const reader: KeyReader = {
      entry: (entry) => of(entry.fields),
      // The fields as readEntry makes them: Fields.fromJSON of their text.
      row: (batch, k) => of(Fields.fromJSON(batch.index.text(batch.row(k), SPAN_FIELDS))),
    }
    return () => reader
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

interface LimiterSettings {
  readonly perSecond: number
  readonly burst: number
  readonly maxKeys: number
  readonly summaryIntervalMs: number
  /** summaryIntervalMs as the summary says it ('1s'). */
  readonly per: string
  readonly scheduler: SchedulerLike
  readonly report: DiagnosticReporter | undefined
}

/**
 * One subscription's buckets and drop counts: admits entries (entry) and
 * rows of batches (batch) by the same rule, in the order they come, and
 * emits the summaries into `summaries`.
 */
class Limiter {
  readonly #settings: LimiterSettings
  readonly #key: KeyReader | undefined
  readonly #summaries: Subject<LogEntry>
  // A Map iterates in insertion order, so re-inserting on use keeps the least recently used first.
  readonly #buckets = new Map<string, Bucket>()
  readonly #single: Bucket
  /** The most recently used key and its bucket: asked again, it needs no re-insertion. */
  #lastKey = ''
  #lastBucket: Bucket | undefined
  #dropped = 0
  // The summary speaks for the app whose entries it dropped.
  #app = ''
  readonly #appOfRow = new SpanMemo(SPAN_APP, same)
  readonly #droppedByKey = new Map<string, number>()
  #timer: Subscription | undefined
  readonly #kept = new KeptRows()

  constructor(settings: LimiterSettings, key: KeyReader | undefined, summaries: Subject<LogEntry>) {
    this.#settings = settings
    this.#key = key
    this.#summaries = summaries
    this.#single = { tokens: settings.burst, last: settings.scheduler.now() }
  }

  /** True when the entry is admitted. */
  entry(entry: LogEntry): boolean {
    const key = this.#key === undefined ? undefined : this.#entryKey(this.#key, entry)
    if (this.#take(key, this.#settings.scheduler.now())) return true
    this.#drop(key)
    this.#app = entry.app
    return false
  }

  /** The rows of the batch that are admitted, undefined when none is. */
  batch(batch: EntryBatch): EntryBatch | undefined {
    // One clock reading for the batch: its entries arrive together, as
    // unbatched entries do within one synchronous call (no timer runs between them).
    const now = this.#settings.scheduler.now()
    const rows = batch.rows
    const length = batch.length
    const kept = this.#kept.room(length)
    let n = 0
    let lastDropped = -1
    for (let k = 0; k < length; k++) {
      const row = rows[k] as number
      let key: string | undefined
      if (this.#key !== undefined) {
        const read = this.#rowKey(this.#key, batch, k)
        // Bytes that no longer decode never reach an entry operator (unbatch
        // skips them): no token, and the stage that decodes them counts them.
        if (read === null) {
          kept[n++] = row
          continue
        }
        key = read
      }
      if (this.#take(key, now)) kept[n++] = row
      else {
        this.#drop(key)
        lastDropped = row
      }
    }
    if (lastDropped >= 0) this.#app = this.#appOfRow.get(batch.index, lastDropped)
    return this.#kept.selection(batch, n)
  }

  /** Emits the summary of the drops since the last one, if any. */
  summarise(): void {
    this.#timer?.unsubscribe()
    this.#timer = undefined
    if (this.#dropped === 0) return
    const count = this.#dropped
    const top = [...this.#droppedByKey].sort((a, b) => b[1] - a[1]).slice(0, SUMMARY_TOP_KEYS)
    this.#dropped = 0
    this.#droppedByKey.clear()
    const msg = `rateLimit dropped ${entries(count)} in the last ${this.#settings.per}`
    const byKey = this.#key === undefined ? undefined : Object.fromEntries(top)
    // The summary entry below says it already: the runtime counts this, makes no second entry.
    this.#settings.report?.({
      code: 'dropped',
      message: msg,
      count,
      emitted: true,
      details: byKey === undefined ? { reason: 'rate_limit' } : { reason: 'rate_limit', byKey },
    })
    this.#summaries.next(
      createEntry({
        time: msToNs(this.#settings.scheduler.now()),
        level: 40,
        app: this.#app,
        source: 'logkit',
        msg,
        fields: byKey === undefined ? { dropped: count } : { dropped: count, byKey },
      }),
    )
  }

  /** Unsubscribed before completion: no one to emit a summary to, but the count is still reported. */
  stop(): void {
    this.#timer?.unsubscribe()
    this.#timer = undefined
    if (this.#dropped > 0) {
      this.#settings.report?.({
        code: 'dropped',
        message: `rateLimit dropped ${entries(this.#dropped)} before it was unsubscribed`,
        count: this.#dropped,
      })
      this.#dropped = 0
    }
  }

  #entryKey(reader: KeyReader, entry: LogEntry): string {
    try {
      return reader.entry(entry)
    } catch (error) {
      return this.#keyFailed(error)
    }
  }

  #rowKey(reader: KeyReader, batch: EntryBatch, k: number): string | null {
    try {
      return reader.row(batch, k)
    } catch (error) {
      return this.#keyFailed(error)
    }
  }

  /** A key that could not be read must not stop the stream: the entry shares the '' bucket. */
  #keyFailed(error: unknown): string {
    this.#settings.report?.({
      code: 'key_failed',
      message: `rateLimit key function threw (${(error as Error)?.message ?? String(error)}); the entry was limited in the shared '' bucket`,
      count: 1,
    })
    return ''
  }

  /** Takes a token from the key's bucket (the single one without a key); false when there is none. */
  #take(key: string | undefined, now: number): boolean {
    const { burst, perSecond } = this.#settings
    const bucket = key === undefined ? this.#single : this.#bucket(key, now)
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.last) / 1000) * perSecond)
    bucket.last = now
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  #bucket(key: string, now: number): Bucket {
    if (key === this.#lastKey && this.#lastBucket !== undefined) return this.#lastBucket
    const buckets = this.#buckets
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: this.#settings.burst, last: now }
      if (buckets.size >= this.#settings.maxKeys) buckets.delete(buckets.keys().next().value as string)
    } else {
      buckets.delete(key)
    }
    buckets.set(key, bucket)
    this.#lastKey = key
    this.#lastBucket = bucket
    return bucket
  }

  #drop(key: string | undefined): void {
    this.#dropped += 1
    if (key !== undefined) {
      const seen = this.#droppedByKey.get(key)
      if (seen !== undefined) this.#droppedByKey.set(key, seen + 1)
      else if (this.#droppedByKey.size < SUMMARY_TRACKED_KEYS) this.#droppedByKey.set(key, 1)
    }
    // The first drop of an interval starts it; an interval without drops costs no timer.
    this.#timer ??= this.#settings.scheduler.schedule(
      () => this.summarise(),
      this.#settings.summaryIntervalMs,
    )
  }
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
 * In the collector it takes batches of entries that are still bytes
 * (EntryBatch, see markTakesBatches) and admits their rows by the same
 * buckets: keys by source, app and level are read from the bytes without
 * decoding, a `fields.<path>` key decodes the fields, a function key the
 * entry.
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
  const makeKey = keyReader(key)
  const settings: LimiterSettings = {
    perSecond,
    burst,
    maxKeys,
    summaryIntervalMs,
    per: interval(summaryIntervalMs),
    scheduler,
    report,
  }

  return takingBatches((source) =>
    defer(() => {
      // Per subscription: defer() gives each its own buckets and counts.
      const summaries = new Subject<LogEntry>()
      const limiter = new Limiter(settings, makeKey?.(), summaries)
      const admitted = source.pipe(
        selectEach((item) =>
          isEntryBatch(item) ? limiter.batch(item) : limiter.entry(item) ? item : undefined,
        ),
        tap({
          complete: () => {
            limiter.summarise()
            summaries.complete()
          },
          error: () => limiter.summarise(),
        }),
        finalize(() => limiter.stop()),
      )
      // Subscribe to the summaries first: a synchronous source may complete (and summarise) within subscribe.
      return merge(summaries, admitted)
    }),
  )
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
