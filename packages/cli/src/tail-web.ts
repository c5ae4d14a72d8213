// `logkit tail --web`: the http sink's web view beside a running compose, fed
// through its control socket (one `tail` stream in NDJSON, and a `status`
// request every few seconds for the producer panel). The page, the SSE stream
// and every bound are @logkit/sink-http's own (its WebServer); this file only
// connects the two. The control socket's own losses (its follower buffer)
// reach the browsers as `missed`. When the collector goes (a restart of
// compose), the view stays up and reconnects, waiting RECONNECT_MIN_MS at
// first and twice as long each time up to RECONNECT_MAX_MS.

import { pathToFileURL } from 'node:url'
import { entryFromJsonLine, type LogEntry, type RuntimeEnv } from '@logkit/core'
import { request, type TailFilter } from './control.js'
import { cliError } from './errors.js'
import { PluginResolver } from './plugins.js'

export interface TailWebOptions extends TailFilter {
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** Access token (from the environment: never on the command line). */
  readonly token?: string | undefined
  /** Entries of the collector's history to start with. */
  readonly history: number
  /** How often the producer panel's status is asked for (default 2 s). */
  readonly statusEveryMs?: number | undefined
  /** Called with the view's URL once it listens. */
  readonly onListening?: (url: string) => void
  /** Called when the feed from the collector is lost (it will be tried again) and when it is back. */
  readonly onFeed?: (state: 'lost' | 'connected') => void
}

const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 5000

interface WebServerLike {
  readonly url: string
  listen(): Promise<void>
  publish(entries: readonly LogEntry[]): void
  feedMissed(count: number): void
  close(): Promise<void>
}

interface SinkHttpModule {
  validateHttpOptions(options: unknown): Record<string, unknown>
  WebServer: new (options: Record<string, unknown>) => WebServerLike
}

async function loadSinkHttp(): Promise<SinkHttpModule> {
  const file = new PluginResolver(process.cwd()).resolvePackage('@logkit/sink-http')
  if (file === undefined) {
    throw cliError(
      'LOGKIT_ERR_CLI_USAGE',
      'logkit tail --web needs @logkit/sink-http: npm install @logkit/sink-http',
    )
  }
  return (await import(pathToFileURL(file).href)) as SinkHttpModule
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Serves the web view of `app`'s running compose until `signal` aborts; a collector that goes is waited for. */
export async function tailWeb(
  app: string,
  env: RuntimeEnv,
  options: TailWebOptions,
  signal: AbortSignal,
): Promise<void> {
  const http = await loadSinkHttp()
  const config = http.validateHttpOptions({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.token === undefined ? {} : { token: options.token }),
  })
  // The first status before the view opens: it also says the collector is there.
  let status: unknown
  const askStatus = () =>
    request(
      app,
      env,
      { op: 'status' },
      (reply) => {
        status = reply['status']
      },
      signal,
    )
  await askStatus()
  const server = new http.WebServer({ ...config, status: () => status, title: app })
  await server.listen()
  options.onListening?.(server.url)
  let polling = false
  const poll = setInterval(() => {
    if (polling) return
    polling = true
    askStatus()
      .catch(() => {
        // A collector that is gone (the feed below waits for it): its last
        // numbers are not shown as if current; the panel counts from the entries.
        status = undefined
      })
      .finally(() => {
        polling = false
      })
  }, options.statusEveryMs ?? 2000)
  // An abort ends the wait even when the control socket's line reader does not end on destroy().
  const aborted = new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    signal.addEventListener('abort', () => resolve(), { once: true })
  })
  try {
    let wait = RECONNECT_MIN_MS
    while (!signal.aborted) {
      let connected = false
      const following = request(
        app,
        env,
        {
          op: 'tail',
          history: options.history,
          follow: true,
          format: 'json',
          ...(options.level === undefined ? {} : { level: options.level }),
          ...(options.source === undefined ? {} : { source: options.source }),
          ...(options.grep === undefined ? {} : { grep: options.grep }),
        },
        (reply) => {
          if (typeof reply['missed'] === 'number') {
            server.feedMissed(reply['missed'])
            return
          }
          const entry = entryFromJsonLine(String(reply['line']))
          if (entry !== undefined) server.publish([entry])
        },
        signal,
        () => {
          connected = true
          wait = RECONNECT_MIN_MS
          options.onFeed?.('connected')
        },
      ).catch(() => {}) // no collector now (it restarts): tried again below
      await Promise.race([following, aborted])
      if (signal.aborted) break
      if (connected) options.onFeed?.('lost')
      await pause(wait, signal)
      wait = Math.min(RECONNECT_MAX_MS, wait * 2)
    }
  } finally {
    clearInterval(poll)
    await server.close()
  }
}
