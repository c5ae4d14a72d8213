// One source read by several pipelines. A source that reads what belongs to
// the whole app (its shm rings, its fifo pipes) can have only one reader per
// collector: two would move the same ring's HEAD. Pipelines that name it share
// one instance, the upstream, through this hub:
//
//   upstream ──▶ hub ─┬─▶ run of pipeline A   (A's demand, acks, signal)
//    (one reader)     └─▶ run of pipeline B   (B's …)
//
// - Positions. The hub counts what the upstream emitted (global positions 1,
//   2, …). A run that joined when the count was `base` sees global position g
//   as its own position g - base.
// - Acknowledgement. The upstream is told n is done when every run that got
//   entries up to n is done with them: the minimum over the runs still
//   receiving or still owing acks. An entry delivered to no run (while every
//   pipeline was stopping) is never acknowledged: the next reader reads it again.
// - Demand is paused while any receiving run's demand is (the slowest pipeline
//   sets the pace, as a `block` sink does within one pipeline).
// - Lifetime. The upstream starts once every pipeline has joined, or
//   `startGraceMs` after the first did (a pipeline that failed to start does
//   not hold the others back); it is aborted when every receiving run has been,
//   and then hands what it holds to them before they complete. A pipeline that
//   (re)joins after entries went by without it (it was restarting, or joined
//   late) is told how many it missed, as a counted drop.
// - Diagnostics of the upstream go to one receiving run (the first), so that
//   totals count them once.

import { Observable, type Subscriber, type Subscription } from 'rxjs'
import type { Demand, SourceContext } from '../plugin.js'
import { isEntryBatch } from '../wire/entry-batch.js'
import type { SourceComponent, SourceItem } from './pipeline.js'

export interface ShareOptions {
  /** How long the upstream waits for every pipeline to join before it starts anyway (default 2000 ms). */
  readonly startGraceMs?: number
}

interface Run {
  readonly slot: number
  readonly ctx: SourceContext
  readonly subscriber: Subscriber<SourceItem>
  /** Global position before this run's first entry. */
  readonly base: number
  /** Global position of the last entry handed to this run. */
  delivered: number
  /** Global position up to which this run's pipeline is done. */
  done: number
  receiving: boolean
  aborting: boolean
  stopDemand: () => void
}

/** One upstream instance and the runs reading it. */
class Generation {
  readonly abort = new AbortController()
  readonly runs: Run[] = []
  readonly ackListeners: ((position: number) => void)[] = []
  readonly resumeListeners = new Set<() => void>()
  /** Global positions emitted so far. */
  emitted = 0
  acknowledged = 0
  /** The first global position delivered to no run (Infinity: none). */
  undeliveredFrom = Number.POSITIVE_INFINITY
  /** Per slot: the global position of the last entry its earlier runs got. */
  readonly lastDelivered = new Map<number, number>()
  subscription: Subscription | undefined
  started = false
  ended = false
  timer: NodeJS.Timeout | undefined
}

class SourceHub {
  #generation: Generation | undefined

  constructor(
    readonly component: SourceComponent,
    readonly consumers: number,
    readonly startGraceMs: number,
  ) {}

  /** The observable pipeline `slot` subscribes to, with its context. */
  join(slot: number, ctx: SourceContext): Observable<SourceItem> {
    return new Observable<SourceItem>((subscriber) => {
      let gen = this.#generation
      if (gen === undefined || gen.ended) {
        gen = new Generation()
        this.#generation = gen
      }
      const current = gen
      // A run of the same pipeline from before (it restarted) is done with: what
      // it had not finished is counted below with what went by without it.
      const unfinished = this.#forget(current, slot)
      const run: Run = {
        slot,
        ctx,
        subscriber,
        base: current.emitted,
        delivered: current.emitted,
        done: current.emitted,
        receiving: true,
        aborting: false,
        stopDemand: ctx.demand.onResume(() => this.#resumed(current)),
      }
      current.runs.push(run)
      ctx.onAck((position) => {
        const done = run.base + position
        if (done <= run.done) return
        run.done = done
        this.#settle(current)
      })
      const missed = current.emitted - (current.lastDelivered.get(slot) ?? 0) + unfinished
      if (missed > 0) {
        ctx.report({
          code: 'dropped',
          message: `${missed} entries of source ${ctx.id} were not written by this pipeline: they went to the other pipelines sharing it while this one was not running (or its previous run had not finished them)`,
          count: missed,
          details: { reason: 'pipeline_not_running' },
        })
      }
      const onAbort = () => this.#abortRun(current, run)
      if (ctx.signal.aborted) queueMicrotask(onAbort)
      else ctx.signal.addEventListener('abort', onAbort, { once: true })
      this.#maybeStart(current)
      return () => {
        ctx.signal.removeEventListener('abort', onAbort)
        this.#leave(current, run)
      }
    })
  }

  #maybeStart(gen: Generation): void {
    if (gen.started) return
    const slots = new Set(gen.runs.map((r) => r.slot))
    if (slots.size >= this.consumers) {
      this.#start(gen)
      return
    }
    gen.timer ??= setTimeout(() => this.#start(gen), this.startGraceMs)
  }

  #start(gen: Generation): void {
    if (gen.started || gen.ended) return
    gen.started = true
    clearTimeout(gen.timer)
    const first = gen.runs[0]
    if (first === undefined) {
      this.#end(gen)
      return
    }
    const demand: Demand = {
      get paused() {
        return gen.runs.some((r) => r.receiving && r.ctx.demand.paused)
      },
      ready() {
        if (!this.paused) return Promise.resolve()
        return new Promise((resolve) => {
          const stop = this.onResume(() => {
            stop()
            resolve()
          })
        })
      },
      onResume(listener) {
        gen.resumeListeners.add(listener)
        return () => {
          gen.resumeListeners.delete(listener)
        }
      },
    }
    const context: SourceContext = {
      id: first.ctx.id,
      app: first.ctx.app,
      demand,
      onAck: (listener) => {
        gen.ackListeners.push(listener)
      },
      signal: gen.abort.signal,
      env: first.ctx.env,
      dir: first.ctx.dir,
      report: (diagnostic) => {
        const owner = gen.runs.find((r) => r.receiving) ?? gen.runs[0] ?? first
        owner.ctx.report(diagnostic)
      },
    }
    let upstream: Observable<SourceItem>
    try {
      upstream = this.component.create(context)
    } catch (err) {
      this.#fail(gen, err)
      return
    }
    gen.subscription = upstream.subscribe({
      next: (item) => this.#deliver(gen, item),
      error: (err: unknown) => this.#fail(gen, err),
      complete: () => this.#complete(gen),
    })
  }

  #deliver(gen: Generation, item: SourceItem): void {
    const first = gen.emitted + 1
    // A batch takes one position per row of its index, as in a pipeline.
    const batch = isEntryBatch(item)
    gen.emitted += batch ? item.positions : 1
    const position = gen.emitted
    let given = false
    for (const run of gen.runs) {
      if (!run.receiving) continue
      // Each pipeline gets its own entry object: the runtime tags entries with
      // its acknowledgement (a batch it tags by making its own view of it).
      run.subscriber.next(given && !batch ? { ...item } : item)
      run.delivered = position
      given = true
    }
    if (!given && first < gen.undeliveredFrom) gen.undeliveredFrom = first
  }

  #resumed(gen: Generation): void {
    if (gen.runs.some((r) => r.receiving && r.ctx.demand.paused)) return
    for (const listener of [...gen.resumeListeners]) listener()
  }

  #settle(gen: Generation): void {
    let ack = Math.min(gen.emitted, gen.undeliveredFrom - 1)
    for (const run of gen.runs) {
      if (run.receiving || run.done < run.delivered) ack = Math.min(ack, run.done)
    }
    // Runs that stopped and owe nothing are done with.
    for (let i = gen.runs.length - 1; i >= 0; i--) {
      const run = gen.runs[i] as Run
      if (!run.receiving && run.done >= run.delivered) gen.runs.splice(i, 1)
    }
    if (ack <= gen.acknowledged) return
    gen.acknowledged = ack
    for (const listener of gen.ackListeners) listener(ack)
  }

  #abortRun(gen: Generation, run: Run): void {
    run.aborting = true
    if (!gen.started) {
      this.#stopReceiving(gen, run)
      run.subscriber.complete()
      if (!gen.runs.some((r) => r.receiving)) this.#end(gen)
      return
    }
    if (gen.runs.every((r) => !r.receiving || r.aborting)) {
      // The last pipeline is stopping: the upstream hands over what it holds to
      // every stopping pipeline, then completes.
      gen.abort.abort()
      return
    }
    // Others still read. Pipelines that stop together (compose stops them all
    // in one turn) must all get the hand-over, so wait a turn before this one
    // stops receiving: if by then every pipeline is stopping, the upstream is
    // aborted instead (by the last one's call).
    setImmediate(() => {
      if (!run.receiving || gen.abort.signal.aborted) return
      if (gen.runs.every((r) => !r.receiving || r.aborting)) {
        gen.abort.abort()
        return
      }
      this.#stopReceiving(gen, run)
      run.subscriber.complete()
    })
  }

  #leave(gen: Generation, run: Run): void {
    if (!run.receiving) return
    this.#stopReceiving(gen, run)
    if (!gen.runs.some((r) => r.receiving)) {
      if (!gen.started) this.#end(gen)
      else if (!gen.abort.signal.aborted) gen.abort.abort()
    }
  }

  #stopReceiving(gen: Generation, run: Run): void {
    run.receiving = false
    run.stopDemand()
    gen.lastDelivered.set(run.slot, run.delivered)
    this.#settle(gen)
    this.#resumed(gen)
  }

  /** Drops the stopped runs of a slot; returns how many entries they had not finished. */
  #forget(gen: Generation, slot: number): number {
    let unfinished = 0
    for (let i = gen.runs.length - 1; i >= 0; i--) {
      const run = gen.runs[i] as Run
      if (run.slot !== slot || run.receiving) continue
      unfinished += run.delivered - run.done
      gen.runs.splice(i, 1)
    }
    this.#settle(gen)
    return unfinished
  }

  #complete(gen: Generation): void {
    // Over a copy: stopping a run may remove it from gen.runs (see #settle).
    for (const run of [...gen.runs]) {
      if (!run.receiving) continue
      this.#stopReceiving(gen, run)
      run.subscriber.complete()
    }
    this.#end(gen)
  }

  #fail(gen: Generation, err: unknown): void {
    for (const run of [...gen.runs]) {
      if (!run.receiving) continue
      this.#stopReceiving(gen, run)
      run.subscriber.error(err)
    }
    this.#end(gen)
  }

  #end(gen: Generation): void {
    if (gen.ended) return
    gen.ended = true
    clearTimeout(gen.timer)
    gen.subscription?.unsubscribe()
    if (this.#generation === gen) this.#generation = undefined
  }
}

/**
 * One source for `consumers` pipelines: returns one component per pipeline
 * (give the i-th to the i-th pipeline). The source is created once, when every
 * pipeline has subscribed (or `startGraceMs` after the first did), and its
 * entries go to every pipeline; it is acknowledged when all are done with them.
 */
export function shareSource(
  component: SourceComponent,
  consumers: number,
  { startGraceMs = 2000 }: ShareOptions = {},
): SourceComponent[] {
  const hub = new SourceHub(component, consumers, startGraceMs)
  return Array.from({ length: consumers }, (_, slot) => ({
    ...(component.id === undefined ? {} : { id: component.id }),
    create: (ctx: SourceContext) => hub.join(slot, ctx),
  }))
}
