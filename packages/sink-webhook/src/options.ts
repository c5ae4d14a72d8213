// The webhook sink's options: the shape users write (WebhookSinkOptions), the
// zod schema that validates it purely (no I/O, no DNS) and fills in the
// defaults of its preset (WebhookSinkConfig), and JSON Schema for editors
// from the same schema. No message here ever quotes the URL, a header value
// or a credential: they are secrets (a manifest takes them from ${ENV}).

import { levelNames, PLUGIN_API_VERSION, parseLevel, parseSize, validateOptions, z } from '@logkit/core'
import { type PresetName, presetDefaults, presetNames } from './presets/limits.js'

export type Compression = 'none' | 'gzip'
export type Method = 'POST' | 'PUT'

export interface BatchOptions {
  /** Most entries in one request (default: the preset's; json/ndjson 1000). */
  readonly maxEntries?: number | undefined
  /** Most bytes of one request body before compression: bytes or '1MiB' (default 1 MiB). */
  readonly maxBytes?: number | string | undefined
  /**
   * A request that is not full waits until this long after the previous
   * request started, so that entries arriving meanwhile go with it (default:
   * the preset's; json/ndjson 1000, 0 sends at once).
   */
  readonly maxWaitMs?: number | undefined
}

export interface RetryPolicyOptions {
  /** Retries of one request before its entries go to the dead-letter file (default 5). */
  readonly retries?: number | undefined
  /** Backoff bounds: the n-th retry waits a random time in [0, min(maxDelayMs, minDelayMs·2ⁿ)] (full jitter). */
  readonly minDelayMs?: number | undefined
  readonly maxDelayMs?: number | undefined
  /** Statuses retried (default 408, 429 and 500–599 but 501); any other non-2xx is rejected at once. */
  readonly retryOn?: readonly number[] | undefined
  /** Longest wait a Retry-After (or Discord's retry_after, X-RateLimit-Reset-After) may ask for (default 60 000 ms). */
  readonly maxRetryAfterMs?: number | undefined
}

export interface DeadLetterOptions {
  /** The dead-letter file (NDJSON, created 0600). */
  readonly path: string
  /** Size at which the file is rotated: bytes or '64MiB' (default 64 MiB, at most 256 MiB). */
  readonly maxBytes?: number | string | undefined
  /** Rotated files kept (`path.1` newest … `path.N`); the oldest beyond is removed, its entries counted (default 3). */
  readonly keep?: number | undefined
}

export type AuthOptions =
  | { readonly bearer: string }
  | { readonly username: string; readonly password: string }

export interface WebhookSinkOptions {
  /** The endpoint, http or https; usually `${ENV_VAR}` (it is a secret). */
  readonly url: string
  readonly method?: Method | undefined
  /** Extra request headers; their values are secrets. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly auth?: AuthOptions | undefined
  /** Payload shape (default json): a JSON array, NDJSON, a Slack message, a Discord message. */
  readonly preset?: PresetName | undefined
  /** json and ndjson only: the body, with `{{entries}}` where the array (or the lines) go. */
  readonly template?: string | undefined
  readonly compression?: Compression | undefined
  readonly batch?: BatchOptions | undefined
  /** Requests in flight at once (default 1, which keeps order; more is unordered). */
  readonly concurrency?: number | undefined
  /** Time for one request, connection to last byte of the response (default 10 000 ms). */
  readonly timeoutMs?: number | undefined
  readonly retry?: RetryPolicyOptions | undefined
  /** Where entries go that were not delivered: a path, or the path and its bounds. */
  readonly deadLetter?: string | DeadLetterOptions | undefined
  /** Lowest level sent: a name or a pino number (default: all). */
  readonly level?: string | number | undefined
}

/** Options after validation: defaults filled in, sizes in bytes. */
export interface WebhookSinkConfig {
  readonly url: string
  readonly method: Method
  readonly headers: Readonly<Record<string, string>>
  readonly auth?: AuthOptions | undefined
  readonly preset: PresetName
  readonly template?: string | undefined
  readonly compression: Compression
  readonly batch: { readonly maxEntries: number; readonly maxBytes: number; readonly maxWaitMs: number }
  readonly concurrency: number
  readonly timeoutMs: number
  readonly retry: {
    readonly retries: number
    readonly minDelayMs: number
    readonly maxDelayMs: number
    readonly retryOn: readonly number[]
    readonly maxRetryAfterMs: number
  }
  readonly deadLetter?:
    | { readonly path: string; readonly maxBytes: number; readonly keep: number }
    | undefined
  readonly level?: number | undefined
}

/** 408, 429 and every 5xx but 501 (Not Implemented will not change by retrying). */
export const DEFAULT_RETRY_ON: readonly number[] = [
  408,
  429,
  ...Array.from({ length: 100 }, (_, i) => 500 + i).filter((s) => s !== 501),
]

/** The placeholder a body template puts the entries at. */
export const ENTRIES_PLACEHOLDER = '{{entries}}'

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** Headers the sink sets itself from other options. */
const RESERVED_HEADERS = new Set([
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'host',
  'connection',
])

const size = (what: string, max?: { bytes: number; text: string }) =>
  z
    .union([z.number(), z.string()], { error: `expected ${what} as bytes or text such as '1MiB'` })
    .transform((value, ctx) => {
      const bytes = parseSize(value)
      if (bytes === undefined || bytes < 1) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `expected ${what} of at least 1 byte, as bytes or text such as '1MiB' or '500kB', found ${JSON.stringify(value)}`,
        })
        return z.NEVER
      }
      if (max !== undefined && bytes > max.bytes) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `expected ${what} of at most ${max.text}, found ${JSON.stringify(value)}`,
        })
        return z.NEVER
      }
      return bytes
    })

const count = (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected a whole number of ${what}` })
    .min(min, { error: `expected ${min} or more ${what}` })
    .max(max, { error: `expected at most ${max} ${what}` })

const ms = (what: string) =>
  z
    .number({ error: `expected ${what} in milliseconds` })
    .min(0, { error: `expected ${what} of 0 ms or more` })
    .max(2 ** 31 - 1, { error: `expected ${what} below 2^31 ms` })

/** An http(s) URL; the message never repeats it. */
const url = z
  .string({ error: 'expected the URL of the endpoint (http or https), usually from an environment variable' })
  .refine(
    (text) => {
      try {
        const u = new URL(text)
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== ''
      } catch {
        return false
      }
    },
    { error: 'expected an http:// or https:// URL with a host (the value is not shown: it may be a secret)' },
  )
  .describe('The endpoint, http or https; usually from an environment variable: it is a secret.')

const headers = z
  .record(
    z.string().regex(HEADER_NAME, { error: 'expected a header name (letters, digits, - and the like)' }),
    z.string({ error: 'expected a header value (text; it is not shown: it may be a secret)' }),
    { error: 'expected a map of header names to values' },
  )
  .superRefine((value, ctx) => {
    for (const name of Object.keys(value)) {
      if (RESERVED_HEADERS.has(name.toLowerCase())) {
        ctx.issues.push({
          code: 'custom',
          input: name,
          path: [name],
          message: `header ${name} is set by the sink (compression, body length, connection): remove it`,
        })
      }
    }
  })
  .default({})
  .describe('Extra request headers; values are secrets.')

const auth = z
  .union(
    [
      z.strictObject({ bearer: z.string().min(1) }),
      z.strictObject({ username: z.string(), password: z.string() }),
    ],
    { error: 'expected { bearer: TOKEN } or { username: NAME, password: SECRET }' },
  )
  .optional()
  .describe('Authorization: a bearer token, or basic username and password.')

const level = z
  .union([z.string(), z.number()], {
    error: `expected a level: ${levelNames.join(', ')} or a number from 0 to 100`,
  })
  .transform((value, ctx) => {
    try {
      return parseLevel(value)
    } catch {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `unknown level: expected one of ${levelNames.join(', ')} or a number from 0 to 100`,
      })
      return z.NEVER
    }
  })
  .optional()
  .describe('Lowest level sent (default: all).')

const batch = z
  .strictObject({
    maxEntries: count('entries', 1).optional().describe("Most entries per request (default: the preset's)."),
    maxBytes: size('a request size')
      .optional()
      .describe("Most bytes per request body before compression (default '1MiB')."),
    maxWaitMs: ms('a wait')
      .optional()
      .describe("A request that is not full waits this long after the previous one (default: the preset's)."),
  })
  .default({})

const retry = z
  .strictObject({
    retries: count('retries', 0, 1000).default(5).describe('Retries of one request (default 5).'),
    minDelayMs: ms('a first backoff').default(500).describe('First backoff bound (default 500).'),
    maxDelayMs: ms('a longest backoff').default(30_000).describe('Longest backoff (default 30000).'),
    retryOn: z
      .array(count('a status', 100, 599), {
        error: 'expected a list of HTTP statuses such as [408, 429, 503]',
      })
      .default([...DEFAULT_RETRY_ON])
      .describe('Statuses retried (default 408, 429 and 5xx but 501).'),
    maxRetryAfterMs: ms('a longest Retry-After')
      .default(60_000)
      .describe('Longest wait a Retry-After may ask for (default 60000).'),
  })
  .refine((r) => r.minDelayMs <= r.maxDelayMs, {
    error: 'minDelayMs must not be above maxDelayMs',
    path: ['minDelayMs'],
  })
  .default({
    retries: 5,
    minDelayMs: 500,
    maxDelayMs: 30_000,
    retryOn: [...DEFAULT_RETRY_ON],
    maxRetryAfterMs: 60_000,
  })

const deadLetterPath = z
  .string({ error: 'expected the path of the dead-letter file' })
  .min(1, { error: 'expected the path of the dead-letter file' })
  .refine((p) => !p.endsWith('/'), { error: 'expected the path of a file, found a folder' })

/**
 * The largest dead-letter file (256 MiB): `logkit replay` reads a file whole,
 * as one string, and V8's longest string is about 512 MiB.
 */
export const DEAD_LETTER_MAX_BYTES = 256 * 1024 * 1024

// A bare path is { path } first, so that a bad maxBytes or keep is reported at
// its own key (a union would report the union). For editors the schema says
// both: a string (the path) or the object (`properties` and the rest apply to
// objects only, `minLength` to strings only).
const deadLetter = z
  .preprocess(
    (d: string | DeadLetterOptions) => (typeof d === 'string' ? { path: d } : d),
    z.strictObject(
      {
        path: deadLetterPath,
        maxBytes: size('a dead-letter file size', { bytes: DEAD_LETTER_MAX_BYTES, text: '256MiB' })
          .default(64 * 1024 * 1024)
          .describe("Size at which the file is rotated (default '64MiB', at most '256MiB')."),
        keep: count('rotated files', 1, 100).default(3).describe('Rotated files kept (default 3).'),
      },
      { error: 'expected a path, or { path, maxBytes, keep }' },
    ),
  )
  .meta({ type: ['string', 'object'], minLength: 1 })
  .optional()
  .describe('The dead-letter file: a path, or { path, maxBytes, keep }.')

/** True when the template has the placeholder once and, for json, makes JSON around an array. */
function templateFits(o: { preset: PresetName; template?: string | undefined }): boolean {
  const template = o.template
  if (template === undefined) return true
  if (o.preset !== 'json' && o.preset !== 'ndjson') return false
  const parts = template.split(ENTRIES_PLACEHOLDER)
  if (parts.length !== 2) return false
  if (o.preset === 'ndjson') return true
  try {
    JSON.parse(parts.join('[{"msg":"x"}]'))
    return true
  } catch {
    return false
  }
}

/** The schema of `use: webhook`. */
export const webhookSinkOptions = z
  .strictObject({
    url,
    method: z
      .enum(['POST', 'PUT'], { error: "expected 'POST' or 'PUT'" })
      .default('POST')
      .describe('HTTP method (default POST).'),
    headers,
    auth,
    preset: z
      .enum(presetNames as [PresetName, ...PresetName[]], {
        error: `expected one of ${presetNames.join(', ')}`,
      })
      .default('json')
      .describe('Payload shape (default json).'),
    template: z
      .string({ error: 'expected a body template with {{entries}}' })
      .optional()
      .describe('json and ndjson: the body, with {{entries}} where the entries go.'),
    compression: z
      .enum(['none', 'gzip'], { error: "expected 'none' or 'gzip'" })
      .default('none')
      .describe('Body compression (default none).'),
    batch,
    concurrency: count('requests', 1, 64)
      .default(1)
      .describe('Requests in flight (default 1: in order; more is unordered).'),
    timeoutMs: ms('a timeout')
      .min(1, { error: 'expected a timeout of 1 ms or more' })
      .default(10_000)
      .describe('Time for one request (default 10000).'),
    retry,
    deadLetter,
    level,
  })
  .refine(templateFits, {
    error:
      'template is for presets json and ndjson, and needs {{entries}} exactly once (with json: valid JSON once it is replaced by an array)',
    path: ['template'],
  })
  .transform((o): WebhookSinkConfig => {
    const defaults = presetDefaults[o.preset]
    return {
      ...o,
      batch: {
        maxEntries: o.batch.maxEntries ?? defaults.maxEntries,
        maxBytes: o.batch.maxBytes ?? defaults.maxBytes,
        maxWaitMs: o.batch.maxWaitMs ?? defaults.maxWaitMs,
      },
    }
  })

// Compile-time: whatever the schema accepts, WebhookSinkOptions allows, and its output is a WebhookSinkConfig.
webhookSinkOptions satisfies z.ZodType<WebhookSinkConfig, WebhookSinkOptions>

/** Validates options as the manifest's definition does (LOGKIT_ERR_OPTIONS_INVALID), for the plain API and replay. */
export function validateWebhookOptions(options: unknown): WebhookSinkConfig {
  return validateOptions(
    { kind: 'sink', name: 'webhook', apiVersion: PLUGIN_API_VERSION, options: webhookSinkOptions },
    options,
  )
}
