// `logkit replay FILE --manifest M --sink ID`: hands a dead-letter file to the
// sink that wrote it, configured as the manifest says. The sink's package
// does the work: a sink plugin that keeps a dead-letter file exports
// `replay(file, options, { id, report })` beside its definitions
// (@logkit/sink-webhook does); this command finds the sink and calls it.

import { dirname, resolve } from 'node:path'
import type { DiagnosticReporter } from '@logkit/core'
import { cliError } from './errors.js'
import { type ComponentPlan, loadPlan } from './manifest.js'
import { PluginResolver } from './plugins.js'

export interface ReplayOptions {
  readonly manifest: string
  readonly sink: string
  /** Needed when pipelines have sinks of the same id. */
  readonly pipeline?: string | undefined
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly report?: DiagnosticReporter | undefined
}

type Replay = (
  file: string,
  options: unknown,
  context: { id: string; report?: DiagnosticReporter | undefined },
) => Promise<Record<string, unknown>>

export async function replay(file: string, options: ReplayOptions): Promise<Record<string, unknown>> {
  const plan = await loadPlan(options.manifest, { env: options.env ?? process.env })
  const found: { pipeline: string; sink: ComponentPlan }[] = []
  for (const p of plan.pipelines) {
    if (options.pipeline !== undefined && p.name !== options.pipeline) continue
    for (const sink of p.sinks) if (sink.id === options.sink) found.push({ pipeline: p.name, sink })
  }
  if (found.length === 0) {
    const ids = plan.pipelines.flatMap((p) => p.sinks.map((s) => `${p.name}/${s.id}`))
    throw cliError(
      'LOGKIT_ERR_CLI_REPLAY',
      `no sink "${options.sink}"${options.pipeline === undefined ? '' : ` in pipeline ${options.pipeline}`} in ${options.manifest}: expected one of ${ids.join(', ')}`,
    )
  }
  if (found.length > 1) {
    throw cliError(
      'LOGKIT_ERR_CLI_REPLAY',
      `sink "${options.sink}" is in pipelines ${found.map((f) => f.pipeline).join(', ')}: say which with --pipeline`,
    )
  }
  const { sink } = found[0] as { sink: ComponentPlan }
  const mod = await new PluginResolver(dirname(resolve(options.manifest))).moduleOf('sink', sink.use)
  const fn = mod?.['replay']
  if (typeof fn !== 'function') {
    throw cliError(
      'LOGKIT_ERR_CLI_REPLAY',
      `sink "${sink.id}" (use: ${sink.use}) keeps no dead-letter file: there is nothing to replay with it`,
    )
  }
  return (fn as Replay)(file, sink.options, { id: sink.id, report: options.report })
}
