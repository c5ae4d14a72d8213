// One sink's harness: its own bounded queue and overflow policy, one write in
// flight at a time, retries with backoff and jitter, what happens to a batch
// whose retries are spent, and the acknowledgement bookkeeping of what it has
// finished.
//
// A batch whose retries are spent:
//   block         held: retried with capped backoff until it is written, never
//                 acknowledged meanwhile. The queue fills, demand pauses, and
//                 producers feel it in their rings: nothing is lost inside the
//                 collector. At close it gets one last attempt; if that
//                 fails, it and everything queued behind it are counted failed
//                 and left unacknowledged, so a source that keeps its data (shm)
//                 delivers them to the next collector.
//   drop_newest,  dropped: counted as failed, reported, acknowledged; the sink
//   drop_oldest   goes on with the next batch (the policy chose losing over
//                 slowing the pipeline).
// An error with `retryable: false` fails its batch at once, under any policy.

import type { DiagnosticReporter } from '../diagnostics.js'
import type { LogEntry } from '../entry.js'
import type { Sink } from '../sink.js'
import { type EntryBatch, isEntryBatch, MAX_BATCH_ENTRIES } from '../wire/entry-batch.js'
import { ackStreamOf } from './ack.js'
import type { DemandController } from './demand.js'
import { pluginStatus } from './plugin-status.js'

export type OverflowPolicy = 'block' | 'drop_newest' | 'drop_oldest'

export interface QueueOptions {
  /** Entries the queue holds (default 10,000). */
  readonly capacity?: number
  /**
   * What a full queue does (default block): `block` pauses the pipeline's demand
   * at capacity and resumes it at half (entries a source still emits past twice
   * the capacity are dropped and counted); `drop_newest` drops what arrives;
   * `drop_oldest` drops the oldest queued entries to make room.
   */
  readonly policy?: OverflowPolicy
  /** Most entries handed to one write() (default 1,000). */
  readonly maxBatch?: number
}

export interface RetryOptions {
  /** Retries of a failed write before its batch is dropped and counted (default 3). */
  readonly retries?: number
  /** First backoff (default 100 ms); doubles each retry, with jitter. */
  readonly minDelayMs?: number
  readonly maxDelayMs?: number
}

export interface SinkStats {
  readonly id: string
  /** Entries of the batch held for retry (policy block), 0 when none is. */
  readonly held: number
  /** Entries accepted into the queue. */
  readonly accepted: number
  readonly written: number
  /** Entries dropped by the overflow policy. */
  readonly dropped: number
  /** Entries lost because every retry of their write failed. */
  readonly failed: number
  readonly queued: number
  readonly policy: OverflowPolicy
  readonly capacity: number
  /** The sink's own status (Sink.status), when it has one. */
  readonly status?: Record<string, unknown>
}

type Item = LogEntry | readonly LogEntry[] | EntryBatch
/** What one write takes: entries, or (from the byte path) batches of entries that are still bytes. */
type Unit = readonly LogEntry[] | readonly EntryBatch[]

/** Entries in a queue item. */
function sizeOf(item: Item): number {
  return isEntryBatch(item) ? item.length : Array.isArray(item) ? item.length : 1
}

function unitSize(unit: Unit): number {
  if (unit.length === 0 || !isEntryBatch(unit[0])) return unit.length
  let n = 0
  for (const batch of unit as readonly EntryBatch[]) n += batch.length
  return n
}

/**
 * The `details` key that marks the runner's own `dropped` diagnostics (queue
 * overflow, `demand_ignored`): their entries are counted in
 * `SinkStats.dropped`. A `dropped` diagnostic of a sink without it is the
 * sink's own loss, counted nowhere else.
 */
export const QUEUE_DROP_FLAG = 'queueDrop'

const DROP_REPORT_INTERVAL_MS = 1000

export class SinkRunner {
  readonly id: string
  readonly #index: number
  readonly #sink: Sink
  readonly #capacity: number
  readonly #policy: OverflowPolicy
  readonly #maxBatch: number
  readonly #retries: number
  readonly #minDelay: number
  readonly #maxDelay: number
  readonly #demand: DemandController
  readonly #report: DiagnosticReporter
  readonly #onFinished: () => void

  #items: Item[] = []
  #head = 0
  #queued = 0
  #inflight = false
  #blocking = false
  #accepted = 0
  #written = 0
  #dropped = 0
  #failed = 0
  /** Size of the batch held for retry; 0 when none is. */
  #held = 0
  #closing = false
  /** Wakes a held batch's backoff wait (close does, so that it need not wait it out). */
  #wake: (() => void) | undefined
  /** Once a batch was left unacknowledged at close, nothing after it may be marked finished. */
  #unacked = false
  /** Drops not yet reported, by reason; reported at most once a second. */
  #unreported = new Map<string, number>()
  #reportTimer: NodeJS.Timeout | undefined
  #idleWaiters: (() => void)[] = []
  #finishedWaiters: { target: number; resolve: () => void }[] = []

  constructor(options: {
    index: number
    id: string
    sink: Sink
    queue?: QueueOptions | undefined
    retry?: RetryOptions | undefined
    demand: DemandController
    report: DiagnosticReporter
    onFinished: () => void
  }) {
    this.id = options.id
    this.#index = options.index
    this.#sink = options.sink
    this.#capacity = Math.max(1, options.queue?.capacity ?? 10_000)
    this.#policy = options.queue?.policy ?? 'block'
    this.#maxBatch = Math.max(1, options.queue?.maxBatch ?? 1000)
    this.#retries = options.retry?.retries ?? 3
    this.#minDelay = options.retry?.minDelayMs ?? 100
    this.#maxDelay = options.retry?.maxDelayMs ?? 5000
    this.#demand = options.demand
    this.#report = options.report
    this.#onFinished = options.onFinished
  }

  get stats(): SinkStats {
    const sink = this.#sink
    return {
      id: this.id,
      accepted: this.#accepted,
      written: this.#written,
      dropped: this.#dropped,
      failed: this.#failed,
      held: this.#held,
      queued: this.#queued,
      policy: this.#policy,
      capacity: this.#capacity,
      ...(sink.status === undefined ? {} : { status: pluginStatus(sink.status.bind(sink)) }),
    }
  }

  /** Entries accepted, written, dropped or failed: everything the runner has decided. */
  get #decided(): number {
    return this.#written + this.#failed + this.#droppedFromQueue
  }
  #droppedFromQueue = 0
  /** Dropped (drop_oldest) while a write was in flight: decided after it. */
  #droppedBehindWrite: Item[] = []

  enqueue(given: Item): void {
    if (isEntryBatch(given) && this.#sink.writeEntries === undefined) {
      // A sink that takes entries gets them decoded now, while the bytes are
      // sure to be valid; each is then queued, written and acknowledged as
      // any entry (in writes of maxBatch, acknowledged entry by entry).
      for (const entry of this.#decode([given])) this.enqueue(entry)
      return
    }
    let item = given
    let n = sizeOf(item)
    if (n === 0) return
    if (this.#queued + n > this.#capacity) {
      if (this.#policy === 'block') {
        // Demand pauses at capacity; what a source emits beyond that (a
        // batch decoded whole, at most MAX_BATCH_ENTRIES, or a source that
        // ignores demand) is bounded here.
        if (this.#queued + n > this.#capacity + Math.max(this.#capacity, MAX_BATCH_ENTRIES)) {
          this.#drop(n, 'demand_ignored')
          return
        }
      } else {
        if (n > this.#capacity && !isEntryBatch(item)) {
          this.#drop(n, 'queue_full')
          return
        }
        if (this.#policy === 'drop_oldest') {
          // The oldest make room; of a batch larger than the queue, its newest rows are kept.
          const fits = Math.min(n, this.#capacity)
          while (this.#queued + fits > this.#capacity) this.#dropOldest(this.#queued + fits - this.#capacity)
        }
        const keep = Math.min(n, this.#capacity - this.#queued)
        if (keep < n) {
          if (keep === 0 || !isEntryBatch(item)) {
            this.#drop(n, 'queue_full')
            return
          }
          // Of a batch, the rows that fit are taken: the oldest under
          // drop_newest, the newest under drop_oldest. The rest are dropped.
          const oldest = this.#policy === 'drop_oldest'
          this.#drop(n - keep, oldest ? 'queue_full_oldest' : 'queue_full')
          item = oldest
            ? item.withRows(item.rows.subarray(n - keep, n), keep)
            : item.withRows(item.rows, keep)
          n = keep
        }
      }
    }
    this.#items.push(item)
    this.#queued += n
    this.#accepted += n
    this.#track(item, 'queued')
    if (this.#policy === 'block' && !this.#blocking && this.#queued >= this.#capacity) {
      this.#blocking = true
      this.#demand.block(this)
    }
    if (!this.#inflight) this.#pump()
  }

  /** Resolves when the queue is empty and no write is in flight. */
  idle(): Promise<void> {
    if (this.#queued === 0 && !this.#inflight) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /**
   * Resolves when everything accepted before the call is decided, or a batch
   * is held for retry (then `stats.held` says it is not written), then
   * flushes the sink.
   */
  async flush(): Promise<void> {
    const target = this.#accepted
    if (this.#decided < target && this.#held === 0) {
      await new Promise<void>((resolve) => this.#finishedWaiters.push({ target, resolve }))
    }
    await this.#guard('flush', () => this.#sink.flush?.())
  }

  async close(): Promise<void> {
    this.#closing = true
    this.#wake?.()
    // Before waiting for the queue: a sink waiting out a Retry-After or a backoff would hold the shutdown that long.
    await this.#guard('closing', () => this.#sink.closing?.())
    await this.idle()
    await this.#guard('flush', () => this.#sink.flush?.())
    await this.#guard('close', () => this.#sink.close?.())
    this.#reportDrops()
    if (this.#blocking) {
      this.#blocking = false
      this.#demand.unblock(this)
    }
  }

  #take(): Unit {
    const first = this.#items[this.#head] as Item
    if (isEntryBatch(first)) {
      // Batches of bytes go to a write together, up to maxBatch entries (at least one batch).
      const batches: EntryBatch[] = []
      let n = 0
      while (this.#head < this.#items.length) {
        const item = this.#items[this.#head] as Item
        if (!isEntryBatch(item) || (n > 0 && n + item.length > this.#maxBatch)) break
        batches.push(item)
        n += item.length
        this.#shift()
      }
      return batches
    }
    if (Array.isArray(first)) {
      this.#shift()
      return first as readonly LogEntry[]
    }
    const batch: LogEntry[] = []
    while (this.#head < this.#items.length && batch.length < this.#maxBatch) {
      const item = this.#items[this.#head] as Item
      if (Array.isArray(item) || isEntryBatch(item)) break
      batch.push(item as LogEntry)
      this.#shift()
    }
    return batch
  }

  #shift(): Item {
    const item = this.#items[this.#head] as Item
    this.#items[this.#head++] = undefined as unknown as Item
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    this.#queued -= sizeOf(item)
    if (this.#blocking && this.#queued <= this.#capacity / 2) {
      this.#blocking = false
      this.#demand.unblock(this)
    }
    return item
  }

  /** Drops the oldest queued item, or, when it is a batch larger than `excess`, its first `excess` rows. */
  #dropOldest(excess: number): void {
    const first = this.#items[this.#head] as Item
    if (isEntryBatch(first) && first.length > excess) {
      this.#items[this.#head] = first.withRows(first.rows.subarray(excess), first.length - excess)
      this.#queued -= excess
      this.#droppedFromQueue += excess
      this.#drop(excess, 'queue_full_oldest')
      this.#settleWaiters()
      return
    }
    const item = this.#shift()
    const n = sizeOf(item)
    this.#droppedFromQueue += n
    this.#drop(n, 'queue_full_oldest')
    // The batch in flight is older than what is dropped here: marking these
    // finished now would acknowledge it before it is written. They are
    // decided once the write in flight is.
    if (this.#inflight) this.#droppedBehindWrite.push(item)
    else this.#track(item, 'finished')
    this.#settleWaiters()
  }

  #pump(): void {
    if (this.#inflight) return
    if (this.#head >= this.#items.length) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve()
      return
    }
    this.#inflight = true
    const unit = this.#take()
    const size = unitSize(unit)
    void this.#write(unit, size).then((outcome) => {
      if (outcome === 'written') this.#written += size
      else this.#failed += size
      // Left unacknowledged: marking it (or anything after it) finished would
      // let the source release it.
      if (outcome === 'unacked') this.#unacked = true
      this.#trackUnit(unit)
      for (const item of this.#droppedBehindWrite.splice(0)) this.#track(item, 'finished')
      this.#inflight = false
      this.#settleWaiters()
      this.#pump()
    })
  }

  async #write(unit: Unit, size: number): Promise<'written' | 'failed' | 'unacked'> {
    if (this.#unacked) {
      // Closing after a batch was given up: what is behind it is not tried
      // (a success would acknowledge the one given up).
      this.#reportFailure(size, 0, undefined)
      return 'unacked'
    }
    const sink = this.#sink
    // Batches reach here only for a sink that takes them (see enqueue).
    const batches = unit.length > 0 && isEntryBatch(unit[0]) ? (unit as readonly EntryBatch[]) : undefined
    for (let attempt = 0; ; attempt++) {
      try {
        if (batches === undefined) await sink.write(unit as readonly LogEntry[])
        else await sink.writeEntries?.(batches)
        if (this.#held > 0) this.#recovered(attempt + 1)
        return 'written'
      } catch (err) {
        const permanent = (err as { retryable?: unknown } | null)?.retryable === false
        if (attempt >= this.#retries || permanent) {
          const hold = this.#policy === 'block' && !permanent
          // Closing: a held batch had its last attempt (close woke its wait).
          if (!hold || this.#closing) {
            this.#held = 0
            this.#reportFailure(size, attempt + 1, err)
            return hold ? 'unacked' : 'failed'
          }
          if (this.#held === 0) this.#hold(size, attempt + 1, err)
        }
        const base = Math.min(this.#maxDelay, this.#minDelay * 2 ** Math.min(attempt, 30))
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, base / 2 + Math.random() * (base / 2))
          this.#wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        this.#wake = undefined
      }
    }
  }

  /** Retries are spent under block: the batch stays, and flush waiters are told it is not written. */
  /** Batches of bytes decoded for a sink that takes entries; an entry that no longer decodes is skipped and reported. */
  #decode(batches: readonly EntryBatch[]): LogEntry[] {
    const entries: LogEntry[] = []
    let corrupt = 0
    for (const batch of batches) {
      for (let k = 0; k < batch.length; k++) {
        try {
          entries.push(batch.entry(k))
        } catch {
          corrupt++
        }
      }
    }
    if (corrupt > 0) {
      this.#report({
        code: 'frame_corrupt',
        stage: 'sink',
        component: this.id,
        message: `${corrupt} entries changed in shared memory after they were read no longer decode: not written by sink ${this.id}`,
        count: corrupt,
      })
    }
    return entries
  }

  #hold(size: number, attempts: number, err: unknown): void {
    this.#held = size
    this.#report({
      code: 'sink_holding',
      stage: 'sink',
      component: this.id,
      level: 50,
      message: `sink ${this.id} failed to write ${size} entries after ${attempts} attempts (${errorText(err)}): holding them and retrying every ${this.#maxDelay} ms at most; its queue fills and the sources slow down (policy block) until the sink recovers. Fix the cause (disk full?)`,
      count: size,
      details: { attempts, policy: this.#policy },
    })
    this.#settleWaiters()
  }

  #recovered(attempts: number): void {
    this.#report({
      code: 'sink_recovered',
      stage: 'sink',
      component: this.id,
      level: 30,
      message: `sink ${this.id} wrote the ${this.#held} entries it held, at attempt ${attempts}: writing again`,
      count: this.#held,
      details: { attempts },
    })
    this.#held = 0
  }

  #reportFailure(size: number, attempts: number, err: unknown): void {
    const what =
      this.#policy === 'block'
        ? 'not written at shutdown and not acknowledged: a source that keeps its data (shm) delivers them again to the next collector, other sources lose them'
        : `dropped (policy ${this.#policy}), counted as failed; with policy block they would be held and retried`
    const why =
      attempts === 0
        ? 'an earlier batch was given up at shutdown'
        : `after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorText(err)}`
    this.#report({
      code: 'sink_failed',
      stage: 'sink',
      component: this.id,
      level: 50,
      message: `sink ${this.id} failed to write ${size} entries (${why}): ${what}`,
      count: size,
      details: { attempts, policy: this.#policy },
    })
  }

  async #guard(what: string, fn: () => unknown): Promise<void> {
    try {
      await fn()
    } catch (err) {
      this.#report({
        code: `sink_${what}_failed`,
        stage: 'sink',
        component: this.id,
        level: 50,
        message: `sink ${this.id} failed to ${what}: ${errorText(err)}`,
      })
    }
  }

  #trackUnit(unit: Unit): void {
    const k = this.#index
    for (const item of unit) {
      if (isEntryBatch(item)) this.#trackRef(item.ack, 'finished', k)
      else this.#trackOne(item as LogEntry, 'finished', k)
    }
    this.#onFinished()
  }

  #track(item: Item, slot: 'queued' | 'finished'): void {
    const k = this.#index
    if (isEntryBatch(item)) {
      this.#trackRef(item.ack, slot, k)
    } else if (Array.isArray(item)) {
      for (const entry of item as readonly LogEntry[]) this.#trackOne(entry, slot, k)
    } else {
      this.#trackOne(item as LogEntry, slot, k)
    }
    if (slot === 'finished') this.#onFinished()
  }

  #trackOne(entry: LogEntry, slot: 'queued' | 'finished', k: number): void {
    this.#trackRef(entry.ack, slot, k)
  }

  #trackRef(ack: LogEntry['ack'], slot: 'queued' | 'finished', k: number): void {
    if (slot === 'finished' && this.#unacked) return
    const stream = ackStreamOf(ack)
    if (stream === undefined) return
    const positions = stream[slot]
    const position = (ack as { position: number }).position
    if (position > (positions[k] as number)) positions[k] = position
  }

  #settleWaiters(): void {
    if (this.#finishedWaiters.length === 0) return
    const decided = this.#decided
    this.#finishedWaiters = this.#finishedWaiters.filter((w) => {
      if (w.target > decided && this.#held === 0) return true
      w.resolve()
      return false
    })
  }

  #drop(n: number, reason: string): void {
    this.#dropped += n
    this.#unreported.set(reason, (this.#unreported.get(reason) ?? 0) + n)
    this.#reportTimer ??= setTimeout(() => this.#reportDrops(), DROP_REPORT_INTERVAL_MS).unref()
  }

  /** Report drops not yet reported now, instead of at the end of their interval. */
  reportDrops(): void {
    this.#reportDrops()
  }

  #reportDrops(): void {
    if (this.#reportTimer) clearTimeout(this.#reportTimer)
    this.#reportTimer = undefined
    for (const [reason, count] of this.#unreported) {
      this.#report({
        code: 'dropped',
        stage: 'sink',
        component: this.id,
        message: `sink ${this.id} dropped ${count} entries (${reason}, policy ${this.#policy}, capacity ${this.#capacity})`,
        count,
        // Already in stats().dropped: a consumer that adds stats and
        // `dropped` diagnostics (compose's totals) must not count these twice.
        // A sink's own `dropped` (the file sink's free-space guard) has no
        // such flag and is in no stats of the runner's.
        details: { reason, policy: this.#policy, [QUEUE_DROP_FLAG]: true },
      })
    }
    this.#unreported.clear()
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
