// Who may use the web view, and what every answer carries.
//
// Without a token the server listens on loopback only (options.ts refuses
// anything else), and answers only requests whose Host header names loopback,
// so a web page elsewhere cannot reach it through DNS rebinding.
//
// With a token, every request must carry it, or a session it opened:
//   Authorization: Bearer TOKEN   curl, scripts
//   ?token=TOKEN                  the link a person opens once: the page
//                                 answers with a session cookie and a page
//                                 that refreshes to the same URL without the
//                                 token (out of the address bar and
//                                 history). A 200 page, not a redirect: a
//                                 SameSite=Strict cookie set on a redirect
//                                 of a cross-site navigation is not sent on
//                                 the next request; after a same-site
//                                 refresh it is.
//   Cookie: logkit_session_PORT   the browser from then on, EventSource
//                                 included (it cannot set headers, and same-
//                                 origin requests send cookies)
// The cookie holds a random session id, never the token: cookies ignore
// ports, so every service on this host sees it, and the name carries the
// port so that two views on one host keep their own. Sessions are bounded
// (MAX_SESSIONS, the oldest let go first) and expire (SESSION_MS). The page's
// script never sees either (HttpOnly). Tokens and session ids are compared as
// SHA-256 digests in constant time, and never printed.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIP } from 'node:net'

/** The session cookie's name for the view on `port`. */
export const sessionCookie = (port: number) => `logkit_session_${port}`
export const MAX_SESSIONS = 256
export const SESSION_MS = 12 * 60 * 60 * 1000
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
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim())
      } catch {
        return undefined // a cookie that is not ours (or garbled) is no cookie
      }
    }
  }
  return undefined
}

export type AccessResult =
  | { readonly ok: true; readonly viaQuery: boolean }
  | { readonly ok: false; readonly status: 401 | 403; readonly message: string }

/** Checks a token, when one is set, and the Host header, when none is. */
export class Access {
  readonly #token: Buffer | undefined
  /** Session digests with their expiry (ms since the epoch), oldest first. */
  readonly #sessions = new Map<string, { digest: Buffer; expires: number }>()
  /** The session cookie's name (it carries the port, known once the server listens). */
  cookieName = sessionCookie(0)

  constructor(token: string | undefined) {
    this.#token = token === undefined ? undefined : digest(token)
  }

  get sessions(): number {
    return this.#sessions.size
  }

  /** A new session (after the token was shown): its id, for the cookie only. */
  openSession(now = Date.now()): string {
    for (const [key, s] of this.#sessions) if (s.expires <= now) this.#sessions.delete(key)
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value as string
      this.#sessions.delete(oldest)
    }
    const id = randomBytes(32).toString('base64url')
    const d = digest(id)
    this.#sessions.set(d.toString('hex'), { digest: d, expires: now + SESSION_MS })
    return id
  }

  #hasSession(id: string, now: number): boolean {
    const d = digest(id)
    let found = false
    // Every session is compared, matched or not: the time taken says nothing of which.
    for (const s of this.#sessions.values()) {
      if (timingSafeEqual(d, s.digest) && s.expires > now) found = true
    }
    return found
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
    const given = bearer ?? query
    if (given !== undefined && timingSafeEqual(digest(given), this.#token)) {
      return { ok: true, viaQuery: bearer === undefined && query !== undefined }
    }
    const session = given === undefined ? cookie(req, this.cookieName) : undefined
    if (session !== undefined && this.#hasSession(session, Date.now())) return { ok: true, viaQuery: false }
    return {
      ok: false,
      status: 401,
      message:
        given === undefined && session === undefined
          ? 'this web view needs its access token: open it with ?token=TOKEN once, or send Authorization: Bearer TOKEN'
          : given === undefined
            ? 'this session has ended: open the view with ?token=TOKEN again'
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
