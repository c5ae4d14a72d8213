// `@logkit/pino/pipeline`: logkit's operators and sinks inside pino's worker
// thread, no collector. A `pino.transport` target:
//
//   pino.transport({ target: '@logkit/pino/pipeline', options: { manifest: './logkit.yaml', pipeline: 'main' } })
//   pino.transport({ target: '@logkit/pino/pipeline', options: { operators: [...], sinks: [...] } })
//
// The pipeline is the manifest's, checked by the manifest's own rules (a bad
// one fails with the manifest's `file:line:col message [CODE]` lines); its
// source is `use: pino`, here the lines pino hands the worker. Under
// `logkit compose` the same `use: pino` source reads pino's lines from
// standard input (`node app.js | npx logkit compose logkit.yaml`).

import { hostname as osHostname } from 'node:os'
import type { Readable } from 'node:stream'
import {
  buildPipeline,
  checkManifest,
  formatProblem,
  type ManifestPlan,
  type PipelinePlan,
} from '@logkit/cli'
import {
  createEntry,
  defineSource,
  Fields,
  type LogEntry,
  LogkitError,
  msToNs,
  PLUGIN_API_VERSION,
  type SourceContext,
} from '@logkit/core'
import { z } from '@logkit/core/options'
import build from 'pino-abstract-transport'
import { Observable } from 'rxjs'
import { type PinoLines, pinoSendsConfig, UNPARSED } from './index.js'
import { LineCutter, type LineOptions } from './line.js'

const pinoSourceOptions = z.object({
  /** The stream to read under logkit compose (default process.stdin); for tests and embedding. */
  stream: z
    .custom<Readable>(
      (v) => v !== null && typeof v === 'object' && typeof (v as Readable).on === 'function',
      'a readable stream',
    )
    .optional(),
  /** Source of lines without pino's `name`. */
  source: z.string().min(1).default('main'),
  /** pino's `messageKey`. */
  messageKey: z.string().min(1).default('msg'),
  /** Level labels to numbers, beyond pino's six (`{ audit: 35 }`). */
  levels: z.record(z.string(), z.number().int().min(0).max(100)).optional(),
  /** Longest line read from standard input; the rest of a longer one is cut off and counted. */
  maxLineBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
})

type PinoSourceOptions = z.output<typeof pinoSourceOptions>

/** `use: pino`: pino's lines, from the worker that runs the pipeline target, else from standard input. */
export const pinoSource = defineSource({
  name: 'pino',
  apiVersion: PLUGIN_API_VERSION,
  options: pinoSourceOptions,
  description:
    "pino's lines: those pino hands @logkit/pino/pipeline in its worker, or under logkit compose the lines of standard input.",
  create: (options, context) =>
    entriesOf(streamLines(options.stream ?? process.stdin, options.maxLineBytes, context), options, context),
})

export const definitions = Object.freeze({ pino: pinoSource })

/** The lines as entries, each cut once (line.ts); read only while the pipeline has demand. */
function entriesOf(
  lines: AsyncIterable<string>,
  options: PinoSourceOptions,
  context: SourceContext,
): Observable<LogEntry> {
  const cutter = new LineCutter({
    messageKey: options.messageKey,
    ...(options.levels === undefined ? {} : { levels: options.levels }),
  })
  return new Observable<LogEntry>((subscriber) => {
    const hostname = osHostname()
    let seq = 0
    let stopped = false
    // Intake stops: what is in hand is emitted, and the source completes without waiting for a next line.
    const stop = () => {
      stopped = true
      subscriber.complete()
    }
    context.signal.addEventListener('abort', stop, { once: true })
    const read = async () => {
      for await (const line of lines) {
        if (stopped) break
        if (line.trim() === '') continue
        const cut = cutter.cut(line)
        subscriber.next(
          createEntry({
            time: msToNs(cut.time),
            level: cut.level,
            msg: cut.msg,
            app: context.app,
            source: cut.name || options.source,
            pid: cut.pid >= 0 ? cut.pid : process.pid,
            hostname: cut.hostname || hostname,
            seq: ++seq,
            fields: Fields.fromJSON(cut.fields),
          }),
        )
        if (context.demand.paused) await context.demand.ready()
      }
      if (cutter.notJson > 0) {
        context.report({
          code: 'line_not_json',
          message: `${cutter.notJson} lines were not JSON objects; each was kept whole as the message`,
          count: cutter.notJson,
        })
      }
    }
    read().then(
      () => subscriber.complete(),
      (err: Error) => {
        context.report({
          code: 'pino_lines_failed',
          level: 50,
          message: `reading pino's lines failed: ${err.message}`,
        })
        subscriber.complete()
      },
    )
    return () => {
      stopped = true
      context.signal.removeEventListener('abort', stop)
    }
  })
}

/** Lines of a stream, each at most maxBytes (UTF-16 units): the rest of a longer one is dropped and counted. */
async function* streamLines(
  stream: Readable,
  maxBytes: number,
  context: SourceContext,
): AsyncGenerator<string> {
  let pending = ''
  let cutting = false
  let cut = 0
  stream.setEncoding('utf8')
  for await (const chunk of stream as AsyncIterable<string>) {
    let from = 0
    for (;;) {
      const newline = chunk.indexOf('\n', from)
      if (!cutting) {
        pending += chunk.slice(from, newline < 0 ? chunk.length : newline)
        if (pending.length > maxBytes) {
          // Kept as text (what is left is no JSON any more); the rest of the line is skipped.
          yield pending.slice(0, maxBytes)
          pending = ''
          cutting = true
          context.report({
            code: 'line_truncated',
            message: `a line longer than ${maxBytes} characters was cut short`,
            count: ++cut,
          })
        }
      }
      if (newline < 0) break
      if (!cutting) yield pending
      pending = ''
      cutting = false
      from = newline + 1
    }
  }
  if (pending !== '' && !cutting) yield pending
}

export interface PipelineTargetOptions extends LineOptions {
  /** A manifest file (relative to the process's working directory) and the pipeline in it to run. */
  readonly manifest?: string
  readonly pipeline?: string
  /** Or the pipeline inline, in the manifest's syntax. */
  readonly operators?: readonly unknown[]
  readonly sinks?: readonly unknown[]
  /** Inline: the app name entries carry (default 'pino'), and the source of lines without pino's `name`. */
  readonly app?: string
  readonly source?: string
}

/** Where inline options are reported from: the manifest text made of them. */
const INLINE = 'pino.transport options'

/** The plan and the pipeline to run; a bad manifest or bad options throw the manifest's kind of error. */
export async function pipelinePlan(
  options: PipelineTargetOptions,
): Promise<{ plan: ManifestPlan; pipeline: PipelinePlan; sourceOptions: Record<string, unknown> }> {
  const inline = options.manifest === undefined
  let text: string
  let file: string
  if (inline) {
    file = INLINE
    const source: Record<string, unknown> = { use: 'pino' }
    if (options.source !== undefined) source['source'] = options.source
    if (options.messageKey !== undefined) source['messageKey'] = options.messageKey
    if (options.levels !== undefined) source['levels'] = options.levels
    // JSON is YAML: the manifest's checks read it, and their line:col point into this text.
    text = JSON.stringify(
      {
        version: 1,
        app: options.app ?? 'pino',
        pipelines: {
          pino: {
            sources: [source],
            ...(options.operators === undefined ? {} : { operators: options.operators }),
            sinks: options.sinks ?? [],
          },
        },
      },
      null,
      2,
    )
  } else {
    file = options.manifest as string
    const { readFileSync } = await import('node:fs')
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new LogkitError(
        'LOGKIT_ERR_MANIFEST_READ',
        `${file}: cannot read the manifest (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}): check the path`,
      )
    }
  }
  const result = await checkManifest(text, file)
  const problems = result.problems.map((p) => {
    const line = inline ? `   (${text.split('\n')[p.line - 1]?.trim() ?? ''})` : ''
    return formatProblem(file, p) + line
  })
  const name = inline ? 'pino' : (options.pipeline ?? 'main')
  const pipeline = result.plan?.pipelines.find((p) => p.name === name)
  if (result.plan !== undefined && pipeline === undefined) {
    const known = result.plan.pipelines.map((p) => p.name).join(', ')
    problems.push(`${file}: no pipeline named "${name}" (it has ${known}) [LOGKIT_ERR_MANIFEST_INVALID]`)
  }
  const sources = pipeline?.sources ?? []
  if (pipeline !== undefined && (sources.length !== 1 || sources[0]?.definition.name !== 'pino')) {
    problems.push(
      `${file}: pipeline "${name}" reads ${sources.map((s) => s.use).join(', ')}: under pino.transport its one source is pino's lines: write "sources: [{ use: pino }]" [LOGKIT_ERR_MANIFEST_INVALID]`,
    )
  }
  if (problems.length > 0 || result.plan === undefined || pipeline === undefined) {
    throw new LogkitError('LOGKIT_ERR_MANIFEST_INVALID', `invalid logkit pipeline:\n${problems.join('\n')}`)
  }
  return { plan: result.plan, pipeline, sourceOptions: sources[0]?.options ?? {} }
}

/**
 * The `pino.transport` target `@logkit/pino/pipeline`: runs one logkit
 * pipeline in pino's worker thread on the lines pino writes.
 */
export default async function pipelineTarget(options: PipelineTargetOptions) {
  const { plan, pipeline, sourceOptions } = await pipelinePlan(options)
  let parsed = pinoSourceOptions.parse(sourceOptions)
  let lines: AsyncIterable<string> = (async function* () {})()
  const running = buildPipeline(plan, pipeline, {
    sources: [{ id: 'pino', create: (context) => entriesOf(lines, parsed, context) }],
  })
  return build(
    async (stream: PinoLines) => {
      lines = stream
      // pino 10 sends its messageKey and custom levels; what the pipeline's source says wins.
      parsed = {
        ...parsed,
        messageKey:
          sourceOptions['messageKey'] === undefined
            ? (stream.messageKey ?? parsed.messageKey)
            : parsed.messageKey,
        levels: { ...stream.levels?.values, ...parsed.levels },
      }
      await running.start()
      await running.closed
    },
    {
      parse: 'lines',
      parseLine: () => UNPARSED,
      expectPinoConfig: pinoSendsConfig(),
      close: async () => {
        await running.closed
      },
    },
  )
}
