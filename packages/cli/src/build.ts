// A validated plan → pipelines of @logkit/core, and the one-line summaries and
// totals compose prints about them.

import { dirname, resolve } from 'node:path'
import {
  type AnyOperatorDefinition,
  type AnySinkDefinition,
  type AnySourceDefinition,
  createPipeline,
  type Diagnostic,
  type OperatorInput,
  type Pipeline,
  type PipelineStats,
  QUEUE_DROP_FLAG,
  type RuntimeEnv,
  type SinkComponent,
  type SourceComponent,
  shareSource,
  useOperator,
  useSink,
  useSource,
} from '@logkit/core'
import type { ComponentPlan, ManifestPlan, PipelinePlan } from './manifest.js'

export interface BuildOptions {
  readonly onDiagnostic?: (diagnostic: Diagnostic) => void
  readonly closeTimeoutMs?: number
  /** Sinks added after the manifest's own (the control server's tap). */
  readonly extraSinks?: readonly SinkComponent[]
  /** Operators put before the manifest's own (the control server's producer counts). */
  readonly headOperators?: readonly OperatorInput[]
  /** Sources shared between pipelines (see shareAppSources), by their plan. */
  readonly sharedSources?: ReadonlyMap<ComponentPlan, SourceComponent>
  /** Sources used instead of the plan's (a host that feeds the pipeline itself: @logkit/pino's pipeline target). */
  readonly sources?: readonly SourceComponent[]
  /** Where sources find the app's runtime and shared-memory folders (default process.env). */
  readonly env?: RuntimeEnv
  /** The collector's status, for sinks that show it (SinkContext.status). */
  readonly status?: () => unknown
}

/**
 * One reader per app-wide source (`perApp`: shm, fifo): when several pipelines
 * name one, they get one instance between them (the manifest has checked that
 * they give it the same options). Keep the map for the whole compose run, so a
 * restarted pipeline joins the same reader.
 */
export function shareAppSources(plan: ManifestPlan): Map<ComponentPlan, SourceComponent> {
  const groups = new Map<AnySourceDefinition, ComponentPlan[]>()
  for (const pipeline of plan.pipelines) {
    for (const source of pipeline.sources) {
      const definition = source.definition as AnySourceDefinition
      if (definition.perApp !== true) continue
      groups.set(definition, [...(groups.get(definition) ?? []), source])
    }
  }
  const shared = new Map<ComponentPlan, SourceComponent>()
  for (const [definition, sources] of groups) {
    if (sources.length < 2) continue
    const first = sources[0] as ComponentPlan
    const instances = shareSource(useSource(definition, first.options, first.id), sources.length)
    for (const [i, source] of sources.entries()) shared.set(source, instances[i] as SourceComponent)
  }
  return shared
}

export function buildPipeline(
  plan: ManifestPlan,
  pipeline: PipelinePlan,
  options: BuildOptions = {},
): Pipeline {
  return createPipeline({
    id: pipeline.name,
    app: plan.app,
    sources:
      options.sources ??
      pipeline.sources.map(
        (c) =>
          options.sharedSources?.get(c) ?? useSource(c.definition as AnySourceDefinition, c.options, c.id),
      ),
    operators: [
      ...(options.headOperators ?? []),
      ...pipeline.operators.map((c) => useOperator(c.definition as AnyOperatorDefinition, c.options, c.id)),
    ],
    sinks: [
      ...pipeline.sinks.map((c) =>
        useSink(c.definition as AnySinkDefinition, c.options, {
          id: c.id,
          ...(c.queue === undefined ? {} : { queue: c.queue }),
          ...(c.retry === undefined ? {} : { retry: c.retry }),
        }),
      ),
      ...(options.extraSinks ?? []),
    ],
    ...(options.onDiagnostic === undefined ? {} : { onDiagnostic: options.onDiagnostic }),
    ...(options.closeTimeoutMs === undefined ? {} : { closeTimeoutMs: options.closeTimeoutMs }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.status === undefined ? {} : { status: options.status }),
    // Relative paths in the manifest (a file sink's path) are the manifest's folder's.
    dir: dirname(resolve(plan.file)),
  })
}

/** `main: shm, fifo → filter, rateLimit → file, console` */
export function summaryLine(pipeline: PipelinePlan): string {
  const names = (list: PipelinePlan['sources']) => list.map((c) => c.id).join(', ')
  const parts = [names(pipeline.sources)]
  if (pipeline.operators.length > 0) parts.push(names(pipeline.operators))
  parts.push(names(pipeline.sinks))
  return `${pipeline.name}: ${parts.join(' → ')}`
}

/** Totals of one pipeline over all its runs (a restarted pipeline has several). */
export interface PipelineTotals {
  readonly name: string
  in: number
  out: number
  /** Entries the pipeline made (its diagnostics as entries). */
  made: number
  /** Entries operators reported dropped (rateLimit's, a failed operator's), all operators together. */
  droppedByOperators: number
  /** Entries dropped, by component (operators' and sources' `dropped` diagnostics, sinks' queues and failed writes). */
  readonly dropped: Map<string, number>
  /**
   * Entries sinks dropped themselves (a `dropped` diagnostic of a sink, not
   * of its queue: the file sink's free-space guard), by sink, over all runs.
   * Also in `dropped`; kept apart for `logkit flush`, which reads the queues'
   * losses from the running pipeline's stats.
   */
  readonly droppedBySink: Map<string, number>
  readonly written: Map<string, number>
  readonly acknowledged: Map<string, number>
  readonly emitted: Map<string, number>
  runs: number
  failures: number
}

export function emptyTotals(name: string): PipelineTotals {
  return {
    name,
    in: 0,
    out: 0,
    made: 0,
    droppedByOperators: 0,
    dropped: new Map(),
    droppedBySink: new Map(),
    written: new Map(),
    acknowledged: new Map(),
    emitted: new Map(),
    runs: 0,
    failures: 0,
  }
}

const add = (map: Map<string, number>, key: string, n: number) => {
  if (n !== 0 || !map.has(key)) map.set(key, (map.get(key) ?? 0) + n)
}

export function addStats(totals: PipelineTotals, stats: PipelineStats): void {
  totals.in += stats.in
  totals.out += stats.out
  totals.made += stats.made
  for (const source of stats.sources) {
    add(totals.emitted, source.id, source.emitted)
    add(totals.acknowledged, source.id, source.acknowledged)
  }
  for (const sink of stats.sinks) {
    add(totals.written, sink.id, sink.written)
    if (sink.dropped + sink.failed > 0) add(totals.dropped, sink.id, sink.dropped + sink.failed)
  }
}

const LOSS_CODES = new Set(['dropped', 'operator_failed'])

/**
 * A diagnostic that counts lost entries (`dropped`, `operator_failed`),
 * counted against its component. A sink queue's own drops are left out: they
 * are in the sink's stats (addStats); a sink's own drops are in no stats and
 * are counted here.
 */
export function addDiagnostic(
  totals: PipelineTotals,
  diagnostic: Diagnostic,
  sinkIds: ReadonlySet<string>,
): void {
  if (!LOSS_CODES.has(diagnostic.code)) return
  const count = diagnostic.count ?? 1
  if (sinkIds.has(diagnostic.component)) {
    if (diagnostic.code !== 'dropped' || diagnostic.details?.[QUEUE_DROP_FLAG] === true) return
    add(totals.droppedBySink, diagnostic.component, count)
  }
  if (diagnostic.stage === 'operator') totals.droppedByOperators += count
  // A producer's drops are told by reason (too large, unserializable, a full buffer).
  const reason = diagnostic.stage === 'producer' ? diagnostic.details?.['reason'] : undefined
  add(
    totals.dropped,
    typeof reason === 'string' ? `${diagnostic.component} (${reason})` : diagnostic.component,
    count,
  )
}

export function totalsLine(totals: PipelineTotals): string {
  const list = (map: Map<string, number>, what: string) =>
    [...map].map(([id, n]) => `${id} ${n}${what}`).join(', ')
  const dropped = [...totals.dropped].filter(([, n]) => n > 0)
  // A sink that drops entries itself still resolves their write, so the
  // runner counted them written: they are shown as dropped only.
  const written = new Map(
    [...totals.written].map(([id, n]) => [id, Math.max(0, n - (totals.droppedBySink.get(id) ?? 0))]),
  )
  // What operators kept back without a drop (a filter's): the line adds up,
  // in + made = out + filtered + the operators' drops.
  // With failed runs, entries also went with the failures: no such count then.
  const filtered =
    totals.failures > 0 ? 0 : Math.max(0, totals.in + totals.made - totals.out - totals.droppedByOperators)
  const parts = [
    `${totals.in} in`,
    ...(totals.made > 0 ? [`${totals.made} diagnostic entries`] : []),
    `${totals.out} out`,
    ...(filtered > 0 ? [`filtered: ${filtered}`] : []),
    `written: ${list(written, '') || 'none'}`,
    `dropped: ${dropped.length === 0 ? 'none' : dropped.map(([id, n]) => `${id} ${n}`).join(', ')}`,
  ]
  if (totals.runs > 1) parts.push(`${totals.runs} runs`)
  if (totals.failures > 0) parts.push(`${totals.failures} failures`)
  return `${totals.name}: ${parts.join('; ')}`
}
