// The pipeline runtime:
//
//   sources ─ intake ─▶ operators ─▶ fan-out ─┬─ SinkRunner (queue, policy, retries) ─ sink
//   (demand, acks)      (one chain)           └─ SinkRunner …                        ─ sink
//
// RxJS has no backpressure, so the runtime adds it: every sink queue is bounded,
// a full `block` queue pauses the shared Demand that sources read by, and every
// drop is counted and reported. Diagnostics become warning entries that flow
// through the same operators. close() stops intake, lets sources hand over what
// they hold, completes the operators (which emit what they hold), drains and
// flushes every sink, then closes them.

import { Observable, type OperatorFunction, type SchedulerLike, Subject, type Subscription } from 'rxjs'
import type { Diagnostic, DiagnosticReporter, Stage } from '../diagnostics.js'
import { createEntry, type LogEntry } from '../entry.js'
import { LogkitError } from '../errors.js'
import { emitsOnFlush, isHolding, takesBatches } from '../operators/holds.js'
import type { OperatorContext, SinkContext, SourceContext } from '../plugin.js'
import type { RuntimeEnv } from '../runtime-dir.js'
import type { Sink } from '../sink.js'
import { type EntryBatch, isEntryBatch } from '../wire/entry-batch.js'
import { AckStream } from './ack.js'
import { DemandController } from './demand.js'
import { Intake } from './intake.js'
import { pluginStatus } from './plugin-status.js'
import { type QueueOptions, type RetryOptions, SinkRunner, type SinkStats } from './sink-runner.js'
import { unbatch } from './unbatch.js'

/** What a source emits: entries, or entries that are still bytes (see EntryBatch). */
export type SourceItem = LogEntry | EntryBatch

export interface SourceComponent {
  readonly id?: string
  create(context: SourceContext): Observable<SourceItem>
}

export interface OperatorComponent {
  readonly id?: string
  /** True when the operator may keep entries past the call that gave them (see OperatorDefinition.holds). */
  readonly holds?: boolean
  // biome-ignore lint/suspicious/noExplicitAny: operators may emit batches or other shapes sinks accept
  create(context: OperatorContext): OperatorFunction<LogEntry, any>
}

export interface SinkComponent {
  readonly id?: string
  readonly sink?: Sink
  create?(context: SinkContext): Sink | Promise<Sink>
  readonly queue?: QueueOptions
  readonly retry?: RetryOptions
}

export type SourceInput = Observable<SourceItem> | SourceComponent
// biome-ignore lint/suspicious/noExplicitAny: see OperatorComponent
export type OperatorInput = OperatorFunction<LogEntry, any> | OperatorComponent
export type SinkInput = Sink | SinkComponent

export interface PipelineOptions {
  /** Names the pipeline in diagnostics (default 'pipeline'). */
  readonly id?: string
  readonly app?: string
  readonly sources: readonly SourceInput[]
  readonly operators?: readonly OperatorInput[]
  readonly sinks: readonly SinkInput[]
  /** Called for every diagnostic, besides the warning entry made from it. */
  readonly onDiagnostic?: (diagnostic: Diagnostic) => void
  /** Turn diagnostics into warning entries that flow through the pipeline (default true). */
  readonly diagnosticEntries?: boolean
  /** Scheduler handed to operators (default asyncScheduler). */
  readonly scheduler?: SchedulerLike
  /** How long close() waits for sources to complete before cutting them off (default 10 s). */
  readonly closeTimeoutMs?: number
  /** The environment sources find the app's runtime and shared-memory folders in (default process.env). */
  readonly env?: RuntimeEnv
  /** The folder relative paths in components' options are relative to (a manifest's; default the working directory). */
  readonly dir?: string
  /** The collector's status, handed to sinks (see SinkContext.status). */
  readonly status?: () => unknown
}

export interface SourceStats {
  readonly id: string
  readonly emitted: number
  /** Entries done end to end (the ack watermark). */
  readonly acknowledged: number
  readonly completed: boolean
  /** The source's own status, when its Observable has a `status()` method (see SourceStatus). */
  readonly status?: Record<string, unknown>
}

/**
 * A source's Observable may carry a `status()` method: what `logkit status`
 * shows of it (a connection, acknowledgements pending), as a few named numbers
 * or short strings. Never secrets. Called on every status request: cheap.
 */
export interface SourceStatus {
  status(): Record<string, unknown>
}

export interface PipelineStats {
  readonly id: string
  readonly state: PipelineState
  readonly sources: readonly SourceStats[]
  readonly sinks: readonly SinkStats[]
  /** Entries that came in from sources. */
  readonly in: number
  /** Entries (counting each entry of a batch) the operators handed to the sinks. */
  readonly out: number
  /**
   * Entries the pipeline made itself: its diagnostics as warning entries.
   * Entries the operators kept back without reporting a drop (a filter's)
   * are in + made − out − the operators' `dropped` counts.
   */
  readonly made: number
  /** Diagnostics by code. */
  readonly diagnostics: Readonly<Record<string, number>>
}

export type PipelineState = 'idle' | 'starting' | 'running' | 'closing' | 'closed'

export interface Pipeline {
  readonly id: string
  readonly state: PipelineState
  /** Creates the sinks, then subscribes the operators and the sources. */
  start(): Promise<void>
  /** Resolves when everything accepted before the call has been written by every sink and flushed. */
  flush(): Promise<void>
  /** Stops intake, drains sources and operators, flushes and closes every sink; resolves with the totals. */
  close(): Promise<PipelineStats>
  stats(): PipelineStats
  /** Resolves when the pipeline has closed (by close(), or because every source completed). */
  readonly closed: Promise<PipelineStats>
}

const MAX_PENDING_DIAGNOSTIC_ENTRIES = 1000
/** How often a chain with holding operators is flushed while entries wait for acknowledgement. */
const SETTLE_INTERVAL_MS = 1000

function isObservable(value: unknown): value is Observable<SourceItem> {
  return value instanceof Observable
}

function isSink(value: unknown): value is Sink {
  return typeof (value as Sink).write === 'function'
}

function componentName(input: unknown, fallback: string): string {
  const id = (input as { id?: unknown }).id
  return typeof id === 'string' && id !== '' ? id : fallback
}

export function createPipeline(options: PipelineOptions): Pipeline {
  if (options.sources.length === 0 || options.sinks.length === 0) {
    throw new LogkitError(
      'LOGKIT_ERR_PIPELINE_EMPTY',
      `pipeline ${options.id ?? 'pipeline'} needs at least one source and one sink (has ${options.sources.length} and ${options.sinks.length})`,
    )
  }
  return new PipelineImpl(options)
}

interface SourceState {
  readonly id: string
  readonly input: SourceInput
  readonly stream: AckStream
  emitted: number
  completed: boolean
  status?: (() => Record<string, unknown>) | undefined
  subscription?: Subscription
}

class PipelineImpl implements Pipeline {
  readonly id: string
  state: PipelineState = 'idle'
  readonly closed: Promise<PipelineStats>
  readonly #options: PipelineOptions
  readonly #app: string
  readonly #env: RuntimeEnv | undefined
  readonly #demand = new DemandController()
  readonly #abort = new AbortController()
  readonly #flushes = new Subject<void>()
  readonly #input = new Intake<SourceItem>()
  readonly #sources: SourceState[]
  #sinks: SinkRunner[] = []
  #holding = false
  /** True when every operator that holds entries emits them all on a flush. */
  #holdersEmitOnFlush = true
  #settleTimer: NodeJS.Timeout | undefined
  #in = 0
  #out = 0
  #made = 0
  readonly #diagnosticCounts: Record<string, number> = {}
  #pendingDiagnostics: LogEntry[] = []
  #diagnosticsScheduled = false
  #diagnosticsLost = 0
  /** Set when intake has ended and the operators were told to complete. */
  #inputDone = false
  /** Set once the last diagnostic entries have been handed to the sinks. */
  #final = false
  #ackScheduled = false
  #chainDone!: Promise<void>
  #resolveClosed!: (stats: PipelineStats) => void
  #sourcesDone: Promise<void> | undefined
  #closing: Promise<PipelineStats> | undefined

  constructor(options: PipelineOptions) {
    this.#options = options
    this.id = options.id ?? 'pipeline'
    this.#app = options.app ?? ''
    this.#env = options.env
    this.#sources = options.sources.map((input, i) => {
      const id = componentName(input, `${this.id}.sources[${i}]`)
      return { id, input, stream: new AckStream(id, options.sinks.length), emitted: 0, completed: false }
    })
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') {
      throw new LogkitError(
        'LOGKIT_ERR_PIPELINE_STATE',
        `pipeline ${this.id} is ${this.state}: start() can be called once`,
      )
    }
    this.state = 'starting'
    const sinks = this.#options.sinks
    this.#sinks = await Promise.all(
      sinks.map(async (input, index) => {
        const id = componentName(input, `${this.id}.sinks[${index}]`)
        const report = this.#reporter('sink', id)
        let sink: Sink
        let queue: QueueOptions | undefined
        let retry: RetryOptions | undefined
        if (isSink(input)) {
          sink = input
        } else {
          sink =
            input.sink ??
            (await (input.create as NonNullable<SinkComponent['create']>)({
              id,
              app: this.#app,
              report,
              dir: this.#options.dir,
              ...(this.#options.status === undefined ? {} : { status: this.#options.status }),
            }))
          queue = input.queue
          retry = input.retry
        }
        return new SinkRunner({
          index,
          id,
          sink,
          queue,
          retry,
          demand: this.#demand,
          report,
          // At once, not on a microtask: the next write may start before one runs.
          onFinished: () => this.#settleAcks(),
        })
      }),
    )
    this.#chainDone = this.#subscribeChain()
    if (this.#holding && this.#holdersEmitOnFlush) {
      // Entries consumed in front of a holding operator (filtered out) are
      // acknowledged only when a later entry of their source comes out. So that a
      // source whose entries are all consumed is not held back, flush the
      // operators once a second while anything waits for acknowledgement.
      this.#settleTimer = setInterval(() => {
        if (this.#sources.some((s) => s.stream.passed < s.stream.issued)) this.#flushOperators()
      }, SETTLE_INTERVAL_MS).unref()
    }
    this.state = 'running'
    this.#sourcesDone = Promise.all(this.#sources.map((source) => this.#subscribeSource(source))).then(
      () => {},
    )
    // A pipeline whose sources all complete on their own closes itself.
    void this.#sourcesDone.then(() => {
      if (this.state === 'running') void this.close()
    })
  }

  async flush(): Promise<void> {
    if (this.state !== 'running') {
      throw new LogkitError(
        'LOGKIT_ERR_PIPELINE_STATE',
        `pipeline ${this.id} is ${this.state}: flush() needs it running`,
      )
    }
    this.#emitDiagnostics()
    this.#flushOperators()
    await Promise.all(this.#sinks.map((sink) => sink.flush()))
  }

  close(): Promise<PipelineStats> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<PipelineStats> {
    if (this.state === 'idle') {
      this.state = 'closed'
      const stats = this.stats()
      this.#resolveClosed(stats)
      return stats
    }
    this.state = 'closing'
    if (this.#settleTimer) clearInterval(this.#settleTimer)
    this.#abort.abort()
    await this.#waitForSources()
    this.#emitDiagnostics()
    this.#inputDone = true
    this.#input.complete()
    await this.#chainDone
    for (const source of this.#sources) source.stream.passed = source.stream.issued
    // Nothing enters the sinks any more but the last drop reports, which go
    // straight to the sinks since the operators have completed.
    for (const sink of this.#sinks) sink.reportDrops()
    this.#final = true
    await Promise.all(this.#sinks.map((sink) => sink.close()))
    this.#settleAcks()
    this.state = 'closed'
    const stats = this.stats()
    this.#resolveClosed(stats)
    return stats
  }

  stats(): PipelineStats {
    return {
      id: this.id,
      state: this.state,
      sources: this.#sources.map((s) => ({
        id: s.id,
        emitted: s.emitted,
        acknowledged: s.stream.done,
        completed: s.completed,
        ...(s.status === undefined ? {} : { status: pluginStatus(s.status) }),
      })),
      sinks: this.#sinks.map((sink) => sink.stats),
      in: this.#in,
      out: this.#out,
      made: this.#made,
      diagnostics: { ...this.#diagnosticCounts },
    }
  }

  async #waitForSources(): Promise<void> {
    const timeoutMs = this.#options.closeTimeoutMs ?? 10_000
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs)
    })
    const result = await Promise.race([this.#sourcesDone, timedOut])
    clearTimeout(timer)
    if (result !== 'timeout') return
    for (const source of this.#sources) {
      if (source.completed) continue
      source.subscription?.unsubscribe()
      source.completed = true
      this.#reporter(
        'source',
        source.id,
      )({
        code: 'source_close_timeout',
        message: `source ${source.id} did not complete within ${timeoutMs} ms of close(); it was cut off`,
      })
    }
  }

  #subscribeSource(source: SourceState): Promise<void> {
    return new Promise((resolve) => {
      const report = this.#reporter('source', source.id)
      const stream = source.stream
      let observable: Observable<SourceItem>
      try {
        observable = isObservable(source.input)
          ? source.input
          : source.input.create({
              id: source.id,
              app: this.#app,
              demand: this.#demand,
              onAck: (listener) => stream.onAck(listener),
              signal: this.#abort.signal,
              report,
              env: this.#env,
              dir: this.#options.dir,
            })
      } catch (err) {
        report({
          code: 'source_failed',
          level: 50,
          message: `source ${source.id} failed to start: ${errorText(err)}`,
        })
        source.completed = true
        resolve()
        return
      }
      const status = (observable as Partial<SourceStatus>).status
      if (typeof status === 'function') source.status = () => status.call(observable)
      const done = () => {
        source.completed = true
        resolve()
      }
      source.subscription = observable.subscribe({
        next: (item) => this.#intake(source, item),
        error: (err: unknown) => {
          report({
            code: 'source_failed',
            level: 50,
            message: `source ${source.id} failed: ${errorText(err)}`,
          })
          done()
        },
        complete: done,
      })
    })
  }

  #intake(source: SourceState, item: SourceItem): void {
    const stream = source.stream
    let tagged: SourceItem
    if (isEntryBatch(item)) {
      // A batch takes one position per row of its index (see EntryBatch).
      tagged = item.withAck(stream.take(item.positions))
      source.emitted += item.positions
      this.#in += item.length
    } else {
      tagged = Object.isExtensible(item) ? item : { ...item }
      ;(tagged as { ack?: unknown }).ack = stream.next()
      source.emitted++
      this.#in++
    }
    this.#input.next(tagged)
    if (!this.#holding) {
      // Nothing in the chain keeps entries: whatever this item became has
      // reached the sink queues, or it was consumed.
      stream.passed = stream.issued
      this.#scheduleAcks()
    }
  }

  #subscribeChain(): Promise<void> {
    const contexts = (id: string): OperatorContext => ({
      id,
      app: this.#app,
      flushes: this.#flushes.asObservable(),
      report: this.#reporter('operator', id),
      scheduler: this.#options.scheduler,
    })
    // biome-ignore lint/suspicious/noExplicitAny: see OperatorComponent
    const chain: OperatorFunction<any, any>[] = []
    // Batches travel as far as the operators take them; the first operator
    // that takes only entries gets them decoded, and so does every one after it.
    let batches = true
    const onCorrupt = (count: number) =>
      this.#reporter(
        'runtime',
        this.id,
      )({
        code: 'frame_corrupt',
        message: `${count} entries changed in shared memory after they were read no longer decode: skipped`,
        count,
      })
    for (const [i, input] of (this.#options.operators ?? []).entries()) {
      const id = componentName(input, `${this.id}.operators[${i}]`)
      let operator: OperatorFunction<LogEntry, unknown>
      if (typeof input === 'function') {
        this.#noteHolding(isHolding(input), input)
        operator = input
      } else {
        operator = input.create(contexts(id))
        this.#noteHolding(input.holds === true || isHolding(operator), operator)
      }
      if (batches && !takesBatches(operator)) {
        chain.push(unbatch(onCorrupt))
        batches = false
      }
      chain.push(operator)
    }
    return new Promise((resolve) => {
      let failures = 0
      const subscribe = () => {
        // biome-ignore lint/suspicious/noExplicitAny: the chain's output is whatever the last operator emits
        let out: Observable<any> = this.#input.observable
        for (const operator of chain) out = out.pipe(operator)
        out.subscribe({
          next: (item: LogEntry | readonly LogEntry[] | EntryBatch) => {
            failures = 0
            this.#fanOut(item)
          },
          error: (err: unknown) => {
            // An operator that throws would end the whole pipeline; report it and
            // resubscribe, so only what the chain held is lost: the entry in hand,
            // and whatever holding operators (batch) had kept, counted here.
            failures++
            const lost = this.#lostInChain()
            this.#reporter(
              'operator',
              `${this.id}.operators`,
            )({
              code: 'operator_failed',
              level: 50,
              message: `an operator of pipeline ${this.id} failed and was restarted: ${errorText(err)}; ${this.#holding ? `up to ${lost} entries it held were` : 'the entry in hand was'} lost`,
              count: lost,
            })
            if (this.#inputDone) return resolve()
            // At once for the first failures, so entries arriving meanwhile are not
            // missed; an operator that fails on every subscription backs off.
            if (failures <= 10) return subscribe()
            setTimeout(
              () => (this.#inputDone ? resolve() : subscribe()),
              Math.min(1000, 2 ** (failures - 10)),
            ).unref()
          },
          complete: () => resolve(),
        })
      }
      subscribe()
    })
  }

  /**
   * Entries lost with a failed chain: the one in hand, or, when operators hold
   * entries, every entry that had entered the chain and not left it (an upper
   * bound: entries a filter consumed in front of a holder are among them). They
   * are released to their sources as done, so a durable source does not keep
   * them forever.
   */
  #lostInChain(): number {
    if (!this.#holding) return 1
    let lost = 0
    for (const source of this.#sources) {
      lost += source.stream.issued - source.stream.passed
      source.stream.passed = source.stream.issued
    }
    this.#scheduleAcks()
    return Math.max(lost, 1)
  }

  #noteHolding(holds: boolean, operator: unknown): void {
    if (!holds) return
    this.#holding = true
    if (!emitsOnFlush(operator)) this.#holdersEmitOnFlush = false
  }

  /**
   * Flush the operators; when every holder emits all it holds on a flush,
   * everything issued so far has now left the chain (emitted or consumed).
   */
  #flushOperators(): void {
    this.#flushes.next()
    if (!this.#holdersEmitOnFlush) return
    for (const source of this.#sources) source.stream.passed = source.stream.issued
    this.#scheduleAcks()
  }

  #fanOut(item: LogEntry | readonly LogEntry[] | EntryBatch): void {
    if (isEntryBatch(item)) {
      const ack = item.ack
      if (ack !== undefined && ack.stream instanceof AckStream && ack.position > ack.stream.passed) {
        ack.stream.passed = ack.position
      }
      // Every entry of it was consumed by an operator: nothing to write.
      if (item.length === 0) return
      this.#out += item.length
    } else if (Array.isArray(item)) {
      for (const entry of item as readonly LogEntry[]) this.#passed(entry)
      this.#out += item.length
    } else {
      this.#passed(item as LogEntry)
      this.#out++
    }
    for (const sink of this.#sinks) sink.enqueue(item)
  }

  #passed(entry: LogEntry): void {
    // Operators keep order: an entry leaving the chain means every earlier one
    // of its source has left it too, or was consumed.
    const stream = entry.ack?.stream
    if (stream instanceof AckStream && entry.ack !== undefined && entry.ack.position > stream.passed) {
      stream.passed = entry.ack.position
    }
  }

  #scheduleAcks(): void {
    if (this.#ackScheduled) return
    this.#ackScheduled = true
    queueMicrotask(() => {
      this.#ackScheduled = false
      this.#settleAcks()
    })
  }

  #settleAcks(): void {
    for (const source of this.#sources) source.stream.settle()
  }

  #reporter(stage: Stage, component: string): DiagnosticReporter {
    return (partial) => {
      const diagnostic: Diagnostic = {
        ...partial,
        stage: partial.stage ?? stage,
        component: partial.component ?? component,
      }
      this.#diagnosticCounts[diagnostic.code] = (this.#diagnosticCounts[diagnostic.code] ?? 0) + 1
      this.#options.onDiagnostic?.(diagnostic)
      if (this.#options.diagnosticEntries === false || diagnostic.emitted === true || this.#final) return
      if (this.#inputDone) {
        // Closing, operators done: straight to the sinks.
        this.#made++
        this.#fanOut(diagnosticEntry(diagnostic, this.#app))
        return
      }
      if (this.#pendingDiagnostics.length >= MAX_PENDING_DIAGNOSTIC_ENTRIES) {
        this.#diagnosticsLost++
        return
      }
      this.#pendingDiagnostics.push(diagnosticEntry(diagnostic, this.#app))
      if (!this.#diagnosticsScheduled) {
        // Never re-enter the chain from inside an operator: inject on the next microtask.
        this.#diagnosticsScheduled = true
        queueMicrotask(() => this.#emitDiagnostics())
      }
    }
  }

  #emitDiagnostics(): void {
    this.#diagnosticsScheduled = false
    if (this.#inputDone) return
    const entries = this.#pendingDiagnostics
    this.#pendingDiagnostics = []
    if (this.#diagnosticsLost > 0) {
      const lost = this.#diagnosticsLost
      this.#diagnosticsLost = 0
      entries.push(
        diagnosticEntry(
          {
            code: 'diagnostics_dropped',
            stage: 'runtime',
            component: this.id,
            message: `${lost} diagnostics were not turned into entries (more than ${MAX_PENDING_DIAGNOSTIC_ENTRIES} at once)`,
            count: lost,
          },
          this.#app,
        ),
      )
    }
    this.#made += entries.length
    for (const entry of entries) this.#input.next(entry)
  }
}

/** Keys a JSON line has besides its fields (format/json.ts). */
const LINE_KEYS = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'app',
  'name',
  'seq',
  'trace_id',
  'span_id',
  'msg',
])

/** The warning entry a diagnostic becomes. */
export function diagnosticEntry(diagnostic: Diagnostic, app: string): LogEntry {
  const fields: Record<string, unknown> = {
    code: diagnostic.code,
    stage: diagnostic.stage,
    component: diagnostic.component,
  }
  if (diagnostic.count !== undefined) fields['count'] = diagnostic.count
  if (diagnostic.details !== undefined) {
    // A detail never repeats a key of the line (strict JSON parsers reject
    // duplicates): the pid a diagnostic is about is the producer's, not logkit's.
    for (const [key, value] of Object.entries(diagnostic.details)) {
      const name =
        key === 'pid' ? 'producer_pid' : LINE_KEYS.has(key) || key in fields ? `detail_${key}` : key
      fields[name] = value
    }
  }
  return createEntry({
    level: diagnostic.level ?? 40,
    msg: diagnostic.message,
    app,
    source: 'logkit',
    fields,
  })
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
