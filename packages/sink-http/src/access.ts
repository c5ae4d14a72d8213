// Who may use the web view, and what every answer carries.
//
// Without a token the server listens on loopback only (options.ts refuses
// anything else), and answers only requests whose Host header names loopback,
// so a web page elsewhere cannot reach it through DNS rebinding.
//
// With a token, every request must carry it, in one of three ways:
//   Authorization: Bearer TOKEN   curl, scripts
//   ?token=TOKEN                  the link a person opens once: the page
//                                 answers with an HttpOnly, SameSite=Strict
//                                 cookie and a redirect to the same URL
//                                 without the token (out of the address bar
//                                 and history)
//   Cookie: logkit_token=TOKEN    the browser from then on, EventSource
//                                 included (it cannot set headers, and same-
//                                 origin requests send cookies)
// The page's script never sees the token. Tokens are compared as SHA-256
// digests in constant time, and never printed.

import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIP } from 'node:net'

export const TOKEN_COOKIE = 'logkit_token'
export const TOKEN_PARAM = 'token'

/** True when `host` is a loopback address or name (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.')
  return false
}

/** The host name of a Host header (without its port). */
function hostName(header: string): string {
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1)
  const colon = header.lastIndexOf(':')
  return colon === -1 ? header : header.slice(0, colon)
}

const digest = (text: string) => createHash('sha256').update(text).digest()

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return undefined
}

export type AccessResult =
  | { readonly ok: true; readonly viaQuery: boolean }
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string }

/** Checks a token, when one is set, and the Host header, when none is. */
export class Access {
  readonly #token: Buffer | undefined

  constructor(token: string | undefined) {
    this.#token = token === undefined ? undefined : digest(token)
  }

  get needsToken(): boolean {
    return this.#token !== undefined
  }

  check(req: IncomingMessage, url: URL): AccessResult {
    if (this.#token === undefined) {
      const host = req.headers.host
      if (host === undefined || !isLoopbackHost(hostName(host))) {
        return {
          ok: false,
          status: 403,
          message:
            'this web view answers only on a loopback address (127.0.0.1, localhost): open it by that address',
        }
      }
      return { ok: true, viaQuery: false }
    }
    const auth = req.headers.authorization
    const bearer = auth?.toLowerCase().startsWith('bearer ') === true ? auth.slice(7).trim() : undefined
    const query = url.searchParams.get(TOKEN_PARAM) ?? undefined
    const given = bearer ?? query ?? cookie(req, TOKEN_COOKIE)
    if (given !== undefined && timingSafeEqual(digest(given), this.#token)) {
      return { ok: true, viaQuery: bearer === undefined && query !== undefined }
    }
    return {
      ok: false,
      status: 401,
      message:
        given === undefined
          ? 'this web view needs its access token: open it with ?token=TOKEN once, or send Authorization: Bearer TOKEN'
          : 'the access token does not match',
    }
  }
}

/** Headers every answer carries: no script but the page's own file, no framing, nothing cached. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
}

/** A plain-text refusal with the security headers. */
export function refuse(
  res: ServerResponse,
  status: number,
  message: string,
  extra: Record<string, string> = {},
) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra })
  res.end(`${message}\n`)
}
