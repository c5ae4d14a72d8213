// `logkit emit`: standard input lines → entries of one producer, through shm or
// fifo like any other process of the app. NDJSON lines keep their level, msg
// and fields; other lines become info messages.

import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { createLogger, type LevelName, levelName, levels, type Transport } from '@logkit/core'
import { cliError } from './errors.js'
import { PluginResolver } from './plugins.js'

export interface EmitOptions {
  readonly app: string
  readonly source: string
  readonly via: 'shm' | 'fifo'
  readonly input?: Readable
  readonly level?: LevelName
}

const NAMES = new Set<string>(Object.keys(levels))

function lineLevel(value: unknown): LevelName | undefined {
  if (typeof value === 'string' && NAMES.has(value)) return value as LevelName
  if (typeof value === 'number' && Object.values(levels).includes(value as never))
    return levelName(value as never)
  return undefined
}

/** Loads the producer of a transport package: resolved like a plugin, from the working folder, then the CLI's install. */
export async function producerTransport(
  via: 'shm' | 'fifo',
  app: string,
  source: string,
): Promise<Transport> {
  const pkg = `@logkit/transport-${via}`
  const file = new PluginResolver(process.cwd()).resolvePackage(pkg)
  if (file === undefined)
    throw cliError('LOGKIT_ERR_CLI_EMIT', `--via ${via} needs ${pkg}: npm install ${pkg}`)
  const mod = (await import(new URL(`file://${file}`).href)) as Record<string, unknown>
  const factory = mod[via] as ((options: { app: string; source: string }) => Transport) | undefined
  if (typeof factory !== 'function')
    throw cliError('LOGKIT_ERR_CLI_EMIT', `${pkg} has no ${via}() producer: update it`)
  return factory({ app, source })
}

/** Resolves with the number of entries written. */
export async function emit(options: EmitOptions): Promise<{ written: number; dropped: number }> {
  const transport = await producerTransport(options.via, options.app, options.source)
  const log = createLogger({ app: options.app, source: options.source, transport, level: 'trace' })
  const lines = createInterface({
    input: options.input ?? process.stdin,
    crlfDelay: Number.POSITIVE_INFINITY,
  })
  for await (const line of lines) {
    if (line.trim() === '') continue
    let object: Record<string, unknown> | undefined
    if (line.trimStart().startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(line)
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
          object = parsed as Record<string, unknown>
      } catch {}
    }
    if (object === undefined) {
      log[options.level ?? 'info'](line)
      continue
    }
    const { level, msg, message, time: _time, pid: _pid, hostname: _host, ...fields } = object
    const text = typeof msg === 'string' ? msg : typeof message === 'string' ? message : ''
    log[lineLevel(level) ?? options.level ?? 'info'](fields, text)
  }
  const stats = log.stats
  // fifo's close() waits (closeTimeoutMs, a few seconds) for a collector to take
  // the lines; what it then gives up it counts, and the lines are not delivered.
  await log.close()
  const abandoned = abandonedBy(transport)
  if (abandoned > 0) {
    throw cliError(
      'LOGKIT_ERR_CLI_EMIT',
      `${abandoned} of ${stats.written} lines were not delivered: no collector of app "${options.app}" took them in time. Start one (logkit compose with a ${options.via} source for app "${options.app}", and the same LOGKIT_RUNTIME_DIR), then emit the lines again`,
      { details: { app: options.app, written: stats.written, abandoned } },
    )
  }
  return { written: stats.written, dropped: stats.dropped }
}

/** Entries the transport gave up at close (fifo says so in its stats; shm keeps them in its ring). */
function abandonedBy(transport: Transport): number {
  const stats = (transport as { stats?: () => { abandoned?: unknown } }).stats?.()
  return typeof stats?.abandoned === 'number' ? stats.abandoned : 0
}
