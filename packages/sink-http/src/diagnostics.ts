// Every diagnostic code the http sink reports, with its meaning: the README's
// diagnostics table is checked against this list (test/errors.test.ts).

export const httpSinkDiagnostics = {
  listening:
    'The web view is up: the message has its URL (without the token). An info entry, so `logkit tail` and the view itself show where to open it.',
  server_error:
    "The web view's server failed after it started listening (accepting a connection: EMFILE, too many open files). The view goes on; raise the limit (ulimit -n) or lower maxClients.",
} as const

export type HttpSinkDiagnosticCode = keyof typeof httpSinkDiagnostics
