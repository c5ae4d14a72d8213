// `logkit compose FILE`: validate, start every pipeline, run until a signal (or
// until every pipeline has ended by itself, e.g. stdin at EOF), then drain,
// flush, close and print the totals.
//
// Each pipeline runs on its own: one whose start fails (or that fails while
// running) is reported, and with `restart` started again with backoff while
// the others keep running.

import { dirname, resolve } from 'node:path'
import type { Writable } from 'node:stream'
import {
  type AnySinkDefinition,
  acquireSession,
  type Diagnostic,
  entryFromJsonLine,
  type LogEntry,
  type OperatorInput,
  type Pipeline,
  type PipelineStats,
  type SessionHandle,
  type SinkComponent,
  type SourceComponent,
  validateOptions,
} from '@logkit/core'
import {
  addDiagnostic,
  addStats,
  buildPipeline,
  emptyTotals,
  type PipelineTotals,
  shareAppSources,
  summaryLine,
  totalsLine,
} from './build.js'
import { ControlServer, type ControlServerOptions, controlSocketPath } from './control.js'
import { errorText, exitCodes } from './errors.js'
import {
  type ComponentPlan,
  formatProblem,
  loadManifest,
  type ManifestPlan,
  type PipelinePlan,
} from './manifest.js'
import type { Env } from './yaml-tree.js'

export interface ComposeOptions {
  readonly env?: Env
  /** Restart a pipeline that fails, with backoff. */
  readonly restart?: boolean
  /** Where summaries, totals and reports go (default stderr). */
  readonly out?: Writable
  /** Aborting it is a shutdown request (bin.ts wires SIGINT and SIGTERM to it). */
  readonly signal?: AbortSignal
  /** Called once every pipeline has started (or failed to); compose's control server hooks in here. */
  readonly onRunning?: (running: RunningCompose) => void | Promise<void>
  /** Extra sinks every pipeline gets (the control server's tap); not counted in totals. */
  readonly extraSinks?: (pipeline: string) => readonly SinkComponent[]
  /** Operators put before the manifest's own in every pipeline. */
  readonly headOperators?: (pipeline: string) => readonly OperatorInput[]
  /** Serve the control socket (tail, status, flush, level); default true. */
  readonly control?: boolean
  /** The control server's bounds (follower buffers, request lines, producer table, grep). */
  readonly controlLimits?: ControlServerOptions
  /** The collector's status for sinks that show it (SinkContext.status); compose sets it to the control server's. */
  readonly status?: () => unknown
  readonly minBackoffMs?: number
  readonly maxBackoffMs?: number
}

export interface RunningCompose {
  readonly plan: ManifestPlan
  readonly runners: readonly PipelineRunner[]
}

const HIDDEN_PREFIX = 'logkit.'

export class PipelineRunner {
  readonly plan: PipelinePlan
  readonly totals: PipelineTotals
  pipeline: Pipeline | undefined
  /** 'running' while a pipeline runs; 'failed' when it failed and will not be restarted. */
  state: 'starting' | 'running' | 'waiting' | 'failed' | 'ended' | 'stopped' = 'starting'
  readonly #manifest: ManifestPlan
  readonly #options: ComposeOptions
  readonly #report: (line: string) => void
  readonly #sinkIds: Set<string>
  readonly #shared: ReadonlyMap<ComponentPlan, SourceComponent>
  #stopping = false
  #attempt = 0
  #timer: NodeJS.Timeout | undefined
  #sourceFailures = 0
  #settled!: () => void
  /** Resolves when this runner will run no more (ended, failed for good, or stopped). */
  readonly done: Promise<void>

  constructor(
    manifest: ManifestPlan,
    plan: PipelinePlan,
    options: ComposeOptions,
    report: (line: string) => void,
    shared: ReadonlyMap<ComponentPlan, SourceComponent> = new Map(),
  ) {
    this.#shared = shared
    this.#manifest = manifest
    this.plan = plan
    this.#options = options
    this.#report = report
    this.totals = emptyTotals(plan.name)
    this.#sinkIds = new Set(plan.sinks.map((s) => s.id))
    this.done = new Promise((resolve) => {
      this.#settled = resolve
    })
  }

  async start(): Promise<void> {
    if (this.#stopping) return
    this.state = 'starting'
    this.#sourceFailures = 0
    let pipeline: Pipeline
    try {
      pipeline = buildPipeline(this.#manifest, this.plan, {
        onDiagnostic: (d) => this.#diagnostic(d),
        extraSinks: this.#options.extraSinks?.(this.plan.name) ?? [],
        headOperators: this.#options.headOperators?.(this.plan.name) ?? [],
        sharedSources: this.#shared,
        ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
        ...(this.#options.status === undefined ? {} : { status: this.#options.status }),
      })
      this.pipeline = pipeline
      this.totals.runs++
      await pipeline.start()
    } catch (err) {
      this.totals.failures++
      this.#report(`${this.plan.name}: failed to start: ${errorText(err)} [LOGKIT_ERR_CLI_PIPELINE_FAILED]`)
      const failed = this.pipeline
      this.pipeline = undefined
      if (failed !== undefined) this.#addStats(await failed.close().catch(() => undefined))
      this.#retryOrFail()
      return
    }
    this.state = 'running'
    this.#attempt = 0
    void pipeline.closed.then((stats) => this.#closed(pipeline, stats))
  }

  #diagnostic(diagnostic: Diagnostic): void {
    addDiagnostic(this.totals, diagnostic, this.#sinkIds)
    if (diagnostic.code === 'source_failed') this.#sourceFailures++
    if ((diagnostic.level ?? 40) >= 50)
      this.#report(`${this.plan.name}/${diagnostic.component}: ${diagnostic.message}`)
  }

  #addStats(stats: PipelineStats | undefined): void {
    if (stats === undefined) return
    addStats(this.totals, {
      ...stats,
      sinks: stats.sinks.filter((s) => !s.id.startsWith(HIDDEN_PREFIX)),
    })
  }

  #closed(pipeline: Pipeline, stats: PipelineStats): void {
    if (this.pipeline !== pipeline) return
    this.#addStats(stats)
    this.pipeline = undefined
    if (this.#stopping) return
    // Closed by itself: every source completed. A failure of a source is a
    // failure of the pipeline; a source that ran out (stdin at EOF) is an end.
    if (this.#sourceFailures > 0) {
      this.totals.failures++
      this.#report(`${this.plan.name}: stopped after its sources failed [LOGKIT_ERR_CLI_PIPELINE_FAILED]`)
      this.#retryOrFail()
      return
    }
    this.state = 'ended'
    this.#settled()
  }

  #retryOrFail(): void {
    if (this.#options.restart !== true || this.#stopping) {
      this.state = this.#stopping ? 'stopped' : 'failed'
      this.#settled()
      return
    }
    const min = this.#options.minBackoffMs ?? 250
    const max = this.#options.maxBackoffMs ?? 30_000
    const delay = Math.min(max, min * 2 ** this.#attempt)
    this.#attempt++
    this.state = 'waiting'
    this.#report(`${this.plan.name}: restarting in ${delay} ms (attempt ${this.#attempt})`)
    this.#timer = setTimeout(() => void this.start(), delay)
  }

  /** Stop intake, drain, flush and close; resolves when closed. */
  async stop(): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#timer)
    const pipeline = this.pipeline
    if (pipeline !== undefined) {
      const stats = await pipeline.close()
      if (this.pipeline === pipeline) {
        this.#addStats(stats)
        this.pipeline = undefined
      }
    }
    if (this.state === 'running' || this.state === 'waiting' || this.state === 'starting')
      this.state = 'stopped'
    this.#settled()
  }
}

/** Runs a manifest; resolves with the exit code. */
/** The entries the plan's sinks kept from an earlier run (their definitions' history), oldest first. */
function earlierEntries(plan: ManifestPlan): LogEntry[] {
  const dir = dirname(resolve(plan.file))
  const entries: LogEntry[] = []
  for (const pipeline of plan.pipelines) {
    for (const sink of pipeline.sinks) {
      const history = (sink.definition as AnySinkDefinition).history
      if (history === undefined) continue
      let lines: readonly string[]
      try {
        // The options as the sink gets them: checked, defaults filled in.
        lines = history(validateOptions(sink.definition as AnySinkDefinition, sink.options), { dir })
      } catch {
        continue // a history that cannot be read is no history
      }
      for (const line of lines) {
        const entry = entryFromJsonLine(line)
        if (entry !== undefined) entries.push(entry)
      }
    }
  }
  return entries.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
}

export async function compose(file: string, options: ComposeOptions = {}): Promise<number> {
  const out = options.out ?? process.stderr
  const say = (line: string) => out.write(`${line}\n`)
  const result = await loadManifest(file, { env: options.env ?? process.env })
  if (result.plan === undefined) {
    for (const problem of result.problems) say(formatProblem(file, problem))
    say(
      `logkit: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${file}; nothing was started`,
    )
    return exitCodes.usage
  }
  const plan = result.plan
  // The app's session: its lock keeps a second collector out, and it says where the control socket is.
  let handle: SessionHandle
  try {
    handle = acquireSession(plan.app, (options.env ?? process.env) as NodeJS.ProcessEnv)
  } catch (err) {
    say(`logkit: ${errorText(err)}`)
    return exitCodes.failure
  }
  // Pipelines that name an app-wide source (shm, fifo) share its one reader.
  const shared = shareAppSources(plan)
  const sharing = new Set(
    plan.pipelines.filter((p) => p.sources.some((s) => shared.has(s))).map((p) => p.name),
  )
  const control = options.control === false ? undefined : new ControlServer(options.controlLimits)
  // What sinks kept of the last run (a file sink's history): tail shows it first.
  control?.seedHistory(earlierEntries(plan))
  const runOptions: ComposeOptions =
    control === undefined
      ? options
      : {
          ...options,
          extraSinks: (name) => [...(options.extraSinks?.(name) ?? []), control.tapSink(sharing.has(name))],
          headOperators: (name) => [control.intake(), ...(options.headOperators?.(name) ?? [])],
          status: () => control.status(),
        }
  say(
    `logkit: app ${plan.app}, ${plan.pipelines.length} pipeline${plan.pipelines.length === 1 ? '' : 's'} from ${file}`,
  )
  const runners = plan.pipelines.map(
    (p) => new PipelineRunner(plan, p, runOptions, (line) => say(`logkit: ${line}`), shared),
  )
  for (const runner of runners) say(`  ${summaryLine(runner.plan)}`)
  await Promise.all(runners.map((r) => r.start()))
  const running = { plan, runners }
  if (control !== undefined) {
    try {
      const socket = controlSocketPath(handle.session.paths.appDir)
      await control.listen(socket, running)
      handle.session.setTransport('control', { socket })
    } catch (err) {
      say(`logkit: no control socket (tail, status and flush cannot reach this collector): ${errorText(err)}`)
    }
  }
  await options.onRunning?.(running)

  const stopped = new Promise<'signal'>((resolve) => {
    if (options.signal?.aborted === true) resolve('signal')
    options.signal?.addEventListener('abort', () => resolve('signal'), { once: true })
  })
  const allDone = Promise.all(runners.map((r) => r.done)).then(() => 'done' as const)
  const why = await Promise.race([stopped, allDone])
  if (why === 'signal') say('logkit: stopping: draining sources, flushing sinks')
  await Promise.all(runners.map((r) => r.stop()))
  await control?.close()
  handle.release()
  say('logkit: totals')
  for (const runner of runners) say(`  ${totalsLine(runner.totals)}`)
  const failed = runners.filter((r) => r.state === 'failed')
  return failed.length > 0 ? exitCodes.failure : exitCodes.ok
}
