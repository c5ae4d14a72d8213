export { isLoopbackHost, SECURITY_HEADERS, sessionCookie, TOKEN_PARAM } from './access.js'
export { definitions, httpSink, httpSink as default } from './definition.js'
export { type HttpSinkDiagnosticCode, httpSinkDiagnostics } from './diagnostics.js'
export { type HttpSinkErrorCode, httpSinkError, httpSinkErrorCodes } from './errors.js'
export { createHttpSink, type HttpSink, type HttpSinkContext, openHttpSink } from './http-sink.js'
export {
  DEFAULT_PORT,
  type HttpSinkConfig,
  type HttpSinkOptions,
  httpSinkOptions,
  validateHttpOptions,
} from './options.js'
export type { ProducerRow } from './producers.js'
export type { ClientStatus } from './sse-client.js'
export { WebServer, type WebServerOptions } from './web-server.js'
