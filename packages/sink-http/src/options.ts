// The http sink's options: the shape users write (HttpSinkOptions), the zod
// schema that validates it purely (no I/O, no DNS) and fills in defaults
// (HttpSinkConfig), and JSON Schema for editors from the same schema.
//
// A listener beyond loopback without a token is refused here, at the `host`
// option, so that the CLI names its manifest line and column. No message
// ever quotes the token.

import { PLUGIN_API_VERSION, validateOptions, z } from '@logkit/core'
import { isLoopbackHost } from './access.js'

export interface HttpSinkOptions {
  /** Address to listen on (default 127.0.0.1). Anything but loopback needs `token`. */
  readonly host?: string | undefined
  /** Port (default 4780; 0 picks a free one, printed at start). */
  readonly port?: number | undefined
  /** Access token; usually `${ENV_VAR}`. Required when `host` is not loopback. */
  readonly token?: string | undefined
  /** Entries kept for a browser that connects (default 1000). */
  readonly history?: number | undefined
  /** Entries queued for one browser whose socket is full, before it is dropped to the tail (default 1000). */
  readonly clientQueue?: number | undefined
  /** Live streams open at once, all clients together (default 32). */
  readonly maxClients?: number | undefined
  /** Live streams open at once from one address (default 8). */
  readonly maxClientsPerIp?: number | undefined
}

/** Options after validation: defaults filled in. */
export interface HttpSinkConfig {
  readonly host: string
  readonly port: number
  readonly token?: string | undefined
  readonly history: number
  readonly clientQueue: number
  readonly maxClients: number
  readonly maxClientsPerIp: number
}

export const DEFAULT_PORT = 4780

const count = (what: string, min: number, max: number) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected a whole number of ${what}` })
    .min(min, { error: `expected ${min} or more ${what}` })
    .max(max, { error: `expected at most ${max} ${what}` })

/** The schema of `use: http`. */
export const httpSinkOptions = z
  .strictObject({
    host: z
      .string({ error: 'expected an address to listen on, such as 127.0.0.1' })
      .min(1, { error: 'expected an address to listen on, such as 127.0.0.1' })
      .default('127.0.0.1')
      .describe('Address to listen on (default 127.0.0.1); anything but loopback needs a token.'),
    port: count('a port', 0, 65535).default(DEFAULT_PORT).describe('Port (default 4780; 0: any free port).'),
    token: z
      .string({ error: 'expected the access token as text (it is not shown: it is a secret)' })
      .min(16, {
        error: 'expected an access token of at least 16 characters (it is not shown: it is a secret)',
      })
      .optional()
      .describe('Access token, usually from an environment variable; required beyond loopback.'),
    history: count('entries of history', 0, 100_000)
      .default(1000)
      .describe('Entries kept for a browser that connects (default 1000).'),
    clientQueue: count('queued entries', 1, 100_000)
      .default(1000)
      .describe('Entries queued for one slow browser before it is dropped to the tail (default 1000).'),
    maxClients: count('clients', 1, 10_000).default(32).describe('Live streams open at once (default 32).'),
    maxClientsPerIp: count('clients per address', 1, 10_000)
      .default(8)
      .describe('Live streams open at once from one address (default 8).'),
  })
  .refine((o) => o.token !== undefined || isLoopbackHost(o.host), {
    error:
      'listening beyond loopback needs an access token: set `token` (from an environment variable, at least 16 characters), or listen on 127.0.0.1',
    path: ['host'],
  })

// Compile-time: whatever the schema accepts, HttpSinkOptions allows, and its output is an HttpSinkConfig.
httpSinkOptions satisfies z.ZodType<HttpSinkConfig, HttpSinkOptions>

/** Validates options as the manifest's definition does (LOGKIT_ERR_OPTIONS_INVALID), for the plain API and the CLI. */
export function validateHttpOptions(options: unknown): HttpSinkConfig {
  return validateOptions(
    { kind: 'sink', name: 'http', apiVersion: PLUGIN_API_VERSION, options: httpSinkOptions },
    options,
  )
}
