// The HTTP side: one undici Pool per sink (keep-alive connections to the
// endpoint's origin, at most `concurrency` of them), one request per call,
// each bounded by `timeoutMs` from connection to the last byte of the
// response, whose body is read only as far as an excerpt needs (the rest is
// drained up to a bound, then the connection is dropped).
//
// The URL's path and query, the headers and the credentials are secrets:
// `label` (scheme://host[:port]) is all that names the endpoint anywhere,
// and `redact()` takes the secrets out of any text that may quote them (an
// error message, a response body that echoes the request): the whole URL,
// path and query, and each path segment and query value of 8+ characters
// (an answer may quote a token alone), each as written, percent-decoded, and
// JSON-escaped (`\/`).
//
// Once the status is 2xx the request is delivered: an error or timeout while
// reading the rest of that answer's body does not make it a failure (a retry
// would send the batch twice).

import { gzip } from 'node:zlib'
import { Pool } from 'undici'
import type { WebhookSinkConfig } from './options.js'

/** Bytes of a response body kept to read an excerpt and Discord's retry_after. */
const KEEP_BYTES = 16 * 1024
/** Bytes of a response body drained (to reuse its connection) before the connection is dropped instead. */
const DRAIN_BYTES = 1024 * 1024
/** Characters of a response body quoted in a diagnostic. */
export const EXCERPT_CHARS = 200
/** Path segments and query values this long or longer are redacted on their own. */
const SEGMENT_SECRET_CHARS = 8

export type Answer =
  | {
      readonly kind: 'status'
      readonly status: number
      readonly headers: Readonly<Record<string, string | string[] | undefined>>
      /** The start of the body, redacted. */
      readonly body: string
    }
  | { readonly kind: 'error'; readonly code: string; readonly message: string }

/** scheme://host[:port] of a URL: what may be shown of it. */
export function endpointLabel(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}`
  } catch {
    return '(invalid URL)'
  }
}

export class Endpoint {
  readonly label: string
  readonly #pool: Pool
  readonly #path: string
  readonly #method: 'POST' | 'PUT'
  readonly #headers: Readonly<Record<string, string>>
  readonly #gzip: boolean
  readonly #timeoutMs: number
  /** Secret texts, longest first, that redact() replaces. */
  readonly #secrets: readonly string[]

  constructor(config: WebhookSinkConfig) {
    const url = new URL(config.url)
    this.label = `${url.protocol}//${url.host}`
    this.#path = `${url.pathname}${url.search}`
    this.#method = config.method
    this.#gzip = config.compression === 'gzip'
    this.#timeoutMs = config.timeoutMs
    const headers: Record<string, string> = {}
    const secrets = [config.url, url.pathname, url.search, decoded(url.pathname), ...urlParts(url)]
    if (url.username !== '' || url.password !== '') {
      const user = decoded(url.username)
      const password = decoded(url.password)
      headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
      secrets.push(url.username, url.password, user, password)
    }
    const auth = config.auth
    if (auth !== undefined) {
      if ('bearer' in auth) {
        headers['authorization'] = `Bearer ${auth.bearer}`
        secrets.push(auth.bearer)
      } else {
        headers['authorization'] =
          `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
        secrets.push(auth.password)
      }
    }
    for (const [name, value] of Object.entries(config.headers)) {
      headers[name.toLowerCase()] = value
      secrets.push(value)
    }
    if (headers['authorization'] !== undefined) secrets.push(headers['authorization'])
    this.#headers = headers
    // Short texts ('/', '?a') would redact ordinary words: paths and values of 4+ characters only.
    const long = secrets.filter((s) => s.length >= 4)
    // A JSON answer may quote them with its slashes escaped.
    const escaped = long.filter((s) => s.includes('/')).map((s) => s.replaceAll('/', '\\/'))
    this.#secrets = [...new Set([...long, ...escaped])].sort((a, b) => b.length - a.length)
    this.#pool = new Pool(url.origin, {
      connections: config.concurrency,
      pipelining: 1,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      connect: { timeout: config.timeoutMs },
      keepAliveTimeout: 4000,
    })
  }

  /** Takes every secret (URL, path, query, header values, credentials) out of `text`. */
  redact(text: string): string {
    let out = text
    for (const secret of this.#secrets) if (out.includes(secret)) out = out.split(secret).join('[redacted]')
    return out
  }

  /** Sends one body; never throws: a status, or an error with its code. */
  async send(body: Buffer, contentType: string): Promise<Answer> {
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), this.#timeoutMs)
    try {
      const payload = this.#gzip ? await gzipped(body) : body
      const headers: Record<string, string> = { 'content-type': contentType, ...this.#headers }
      if (this.#gzip) headers['content-encoding'] = 'gzip'
      const response = await this.#pool.request({
        path: this.#path,
        method: this.#method,
        headers,
        body: payload,
        signal: abort.signal,
      })
      let text: string
      try {
        text = await readBounded(response.body)
      } catch (err) {
        // A 2xx is delivered whatever happens to the rest of its body; any other status keeps its failure.
        if (response.statusCode < 200 || response.statusCode >= 300) throw err
        text = ''
      }
      return {
        kind: 'status',
        status: response.statusCode,
        headers: response.headers,
        body: this.redact(text),
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const code = abort.signal.aborted ? 'TIMEOUT' : (e.code ?? e.name ?? 'ERROR')
      const message = abort.signal.aborted ? `no answer within ${this.#timeoutMs} ms` : String(e.message)
      return { kind: 'error', code, message: this.redact(message) }
    } finally {
      clearTimeout(timer)
    }
  }

  /** Waits for requests in flight, then closes every connection. */
  close(): Promise<void> {
    return this.#pool.close()
  }
}

/** `text` percent-decoded, or as it is when it does not decode (`%ZZ`, which a URL may hold). */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** Each path segment and query value of SEGMENT_SECRET_CHARS or more, as written and decoded. */
function urlParts(url: URL): string[] {
  const raw = [
    ...url.pathname.split('/'),
    ...url.search
      .slice(1)
      .split('&')
      .map((pair) => pair.slice(pair.indexOf('=') + 1)),
  ]
  const parts = raw.flatMap((part) => [part, decoded(part), decoded(part.replaceAll('+', ' '))])
  return parts.filter((part) => part.length >= SEGMENT_SECRET_CHARS)
}

function gzipped(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(body, (err, out) => (err ? reject(err) : resolve(out))))
}

/** The body's first KEEP_BYTES as text; the rest drained up to DRAIN_BYTES, then the connection dropped. */
async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const kept: Buffer[] = []
  let keptBytes = 0
  let read = 0
  for await (const chunk of body) {
    read += chunk.length
    if (keptBytes < KEEP_BYTES) {
      kept.push(chunk.subarray(0, KEEP_BYTES - keptBytes))
      keptBytes += Math.min(chunk.length, KEEP_BYTES - keptBytes)
    }
    if (read > DRAIN_BYTES) {
      body.destroy()
      break
    }
  }
  return Buffer.concat(kept).toString('utf8')
}
