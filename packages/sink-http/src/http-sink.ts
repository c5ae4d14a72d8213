// The `http` sink: a WebServer fed by the pipeline. write() hands the batch to
// the server and returns at once: what a browser does never holds the
// pipeline back (each client has its own bounded queue; see sse-client.ts).

import type { DiagnosticReporter, Sink } from '@logkit/core'
import { ignoreDiagnostics } from '@logkit/core'
import { type HttpSinkOptions, validateHttpOptions } from './options.js'
import { WebServer, type WebServerOptions } from './web-server.js'

export interface HttpSinkContext {
  readonly report?: DiagnosticReporter | undefined
  /** The collector's status (SinkContext.status under `logkit compose`), for the producer panel. */
  readonly status?: (() => unknown) | undefined
  /** The page's title (the app's name). */
  readonly title?: string | undefined
}

/** An http sink that is listening; `server` is its web view (url, status()). */
export interface HttpSink extends Sink {
  readonly server: WebServer
}

/** Starts the web view of already-validated options (the manifest's definition calls this). */
export async function openHttpSink(
  config: Omit<WebServerOptions, 'status' | 'title'>,
  context: HttpSinkContext = {},
): Promise<HttpSink> {
  const report = context.report ?? ignoreDiagnostics
  const server = new WebServer({
    ...config,
    onError: (err) =>
      report({
        code: 'server_error',
        level: 50,
        message: `the web view's server: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
        details: { code: (err as NodeJS.ErrnoException).code ?? null },
      }),
    ...(context.status === undefined ? {} : { status: context.status }),
    ...(context.title === undefined ? {} : { title: context.title }),
  })
  await server.listen()
  report({ code: 'listening', level: 30, message: `web view at ${server.url}`, details: { url: server.url } })
  return {
    server,
    write: (batch) => server.publish(batch),
    close: () => server.close(),
  }
}

/** The plain API: validates `options` (LOGKIT_ERR_OPTIONS_INVALID), then starts the web view. */
export function createHttpSink(
  options: HttpSinkOptions = {},
  context: HttpSinkContext = {},
): Promise<HttpSink> {
  return openHttpSink(validateHttpOptions(options), context)
}
