// The web view's server, shared by the `http` sink (inside compose) and
// `logkit tail --web` (beside it, fed through the control socket):
//
//   publish(entries) ─▶ render once (view-entry) ─┬─▶ history ring
//   (never waits)                                 ├─▶ producer table, rates
//                                                 └─▶ each SseClient (bounded queue)
//
//   GET /             the page (public/index.html; ?token= opens a session)
//   GET /app.js, /style.css
//   GET /events       SSE: history first, then live; ?level= &source=a,b &q=
//                     filter on the server; Last-Event-ID resumes
//   GET /status       JSON: clients and their queues, history, producers, rates
//
// /events and /status refuse a request a page of another site makes
// (Sec-Fetch-Site: cross-site, or a foreign Origin): such a page could not
// read them, but it could hold the per-address stream slots. Whatever a
// request carries (a bad target, a garbled cookie), it is answered 400, never
// thrown: a throw here would end the collector.
//
// Node's http module is enough: five routes, no body parsing, and SSE needs
// the raw response (write() and 'drain') that frameworks wrap.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type LogEntry, parseLevel } from '@logkit/core'
import { Access, refuse, SECURITY_HEADERS, SESSION_MS, sessionCookie, TOKEN_PARAM } from './access.js'
import { httpSinkError } from './errors.js'
import { History } from './history.js'
import type { HttpSinkConfig } from './options.js'
import { ProducerTable } from './producers.js'
import { RateWindow } from './rates.js'
import { SseClient } from './sse-client.js'
import { sseEvent, type ViewFilter, viewEntry } from './view-entry.js'

export interface WebServerOptions extends HttpSinkConfig {
  /** The collector's status (as `logkit status --json` prints it), for the producer panel. */
  readonly status?: (() => unknown) | undefined
  /** What the page calls this view (the app's name). */
  readonly title?: string | undefined
  /** A client whose socket stays full this long is closed (default 60 s). */
  readonly stallMs?: number | undefined
  /** A comment line to every client this often, so that proxies keep the stream (default 15 s). */
  readonly keepAliveMs?: number | undefined
  /** Told of a server error after it listens (accept failing: EMFILE); the view goes on. */
  readonly onError?: ((err: Error) => void) | undefined
}

const STATIC: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}

const PUBLIC = new URL('../public/', import.meta.url)

/** Longest text filter a browser may send (it is a substring, matched as such). */
const MAX_TEXT_FILTER = 256
const MAX_SOURCES_FILTER = 64

export class WebServer {
  readonly #options: WebServerOptions
  readonly #access: Access
  readonly #history: History
  readonly #producers = new ProducerTable()
  readonly #rates = new RateWindow()
  readonly #clients = new Set<SseClient>()
  readonly #perIp = new Map<string, number>()
  readonly #files = new Map<string, Buffer>()
  readonly #refused = { perIp: 0, total: 0, unauthorized: 0 }
  #server: Server | undefined
  #keepAlive: NodeJS.Timeout | undefined
  #lastId = 0
  /** This server's run: the first part of every SSE id, so that a resume from another run is known. */
  readonly #epoch = randomBytes(6).toString('hex')
  readonly #errors = { count: 0, last: '' }
  #nextClient = 1
  /** Entries the feed itself missed before they reached this server (tail --web: the control socket's). */
  #feedMissed = 0

  constructor(options: WebServerOptions) {
    this.#options = options
    this.#access = new Access(options.token)
    this.#history = new History(options.history)
    for (const { file } of Object.values(STATIC)) this.#files.set(file, readFileSync(new URL(file, PUBLIC)))
  }

  /** The URL the view answers on (no token in it). */
  get url(): string {
    const address = this.#server?.address() as AddressInfo | null | undefined
    const host =
      address?.family === 'IPv6' ? `[${address.address}]` : (address?.address ?? this.#options.host)
    return `http://${host}:${address?.port ?? this.#options.port}/`
  }

  get port(): number {
    return (this.#server?.address() as AddressInfo | null | undefined)?.port ?? this.#options.port
  }

  async listen(): Promise<void> {
    const server = createServer((req, res) => this.#answer(req, res))
    // Bounds beside the stream limits: slow request heads, and sockets that are not streams.
    server.headersTimeout = 10_000
    server.requestTimeout = 30_000
    server.maxConnections = this.#options.maxClients + 64
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          httpSinkError(
            'LOGKIT_ERR_HTTP_LISTEN',
            `the web view cannot listen on ${this.#options.host}:${this.#options.port} (${err.code ?? err.message}): choose another port or host`,
            { cause: err, details: { host: this.#options.host, port: this.#options.port } },
          ),
        ),
      )
      server.listen(this.#options.port, this.#options.host, () => resolve())
    })
    this.#server = server
    this.#access.cookieName = sessionCookie(this.port)
    // After listen(), an error (accept failing: EMFILE) must not go unheard: unhandled, it would end the collector.
    server.on('error', (err) => {
      this.#errors.count++
      this.#errors.last = (err as NodeJS.ErrnoException).code ?? err.message
      this.#options.onError?.(err)
    })
    const every = this.#options.keepAliveMs ?? 15_000
    this.#keepAlive = setInterval(() => {
      for (const c of this.#clients) c.keepAlive()
    }, every).unref()
  }

  /** Hands entries to the history and to every client; never waits. */
  publish(entries: readonly LogEntry[]): void {
    const now = Date.now()
    for (const c of this.#clients) c.begin()
    for (const entry of entries) {
      const view = viewEntry(++this.#lastId, entry, this.#epoch)
      this.#history.add(view)
      this.#producers.observe(entry, now)
      this.#rates.add(entry.source, entry.level, now)
      for (const c of this.#clients) c.offer(view)
    }
    for (const c of this.#clients) c.end()
  }

  /** The entries kept for browsers that connect, as the page gets them (parsed), oldest first. */
  recent(): Record<string, unknown>[] {
    return this.#history
      .since(0)
      .filter((e) => e.missed === undefined)
      .map((e) => JSON.parse(e.event.slice(e.event.indexOf('data: ') + 6)))
  }

  /**
   * Entries the feed lost before they got here (`logkit tail --web`: the
   * control socket's `missed`): kept in the history in their place (no entry
   * ids are spent on them), and every client is told in order.
   */
  feedMissed(count: number): void {
    if (!(count > 0)) return
    this.#feedMissed += count
    const gap = {
      id: this.#lastId + 0.5,
      level: 0,
      source: '',
      text: '',
      event: sseEvent('missed', { count, reason: 'feed' }),
      missed: { count, reason: 'feed' },
    }
    this.#history.add(gap)
    for (const c of this.#clients) c.offer(gap)
  }

  async close(): Promise<void> {
    clearInterval(this.#keepAlive)
    for (const c of this.#clients) c.close()
    this.#clients.clear()
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  status(): Record<string, unknown> {
    let collector: unknown
    try {
      collector = this.#options.status?.()
    } catch {
      collector = undefined
    }
    const now = Date.now()
    return {
      title: this.#options.title ?? '',
      tokenRequired: this.#access.needsToken,
      lastId: this.#lastId,
      feedMissed: this.#feedMissed,
      sessions: this.#access.sessions,
      errors: { ...this.#errors },
      history: {
        size: this.#history.size,
        capacity: this.#history.capacity,
        firstId: this.#history.firstId ?? null,
      },
      clients: [...this.#clients].map((c) => c.status()),
      limits: {
        maxClients: this.#options.maxClients,
        maxClientsPerIp: this.#options.maxClientsPerIp,
        clientQueue: this.#options.clientQueue,
      },
      refused: { ...this.#refused },
      producers: this.#producers.rows(collector),
      rates: this.#rates.snapshot(now),
      ...(collector === undefined ? {} : { collector }),
    }
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', () => {})
    try {
      this.#route(req, res)
    } catch {
      if (!res.headersSent) refuse(res, 400, 'a request the web view cannot read')
      else res.destroy()
    }
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(res, 405, 'the web view only answers GET', { Allow: 'GET, HEAD' })
      return
    }
    const access = this.#access.check(req, url)
    if (!access.ok) {
      if (access.status === 401) this.#refused.unauthorized++
      refuse(
        res,
        access.status,
        access.message,
        access.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {},
      )
      return
    }
    const path = url.pathname
    const page = STATIC[path]
    if (page !== undefined) {
      if (access.viaQuery && page.file === 'index.html') {
        // The link with ?token=: a session cookie, and a page that refreshes to
        // the URL without the token (same-site, so the Strict cookie goes with it).
        url.searchParams.delete(TOKEN_PARAM)
        const to = `${url.pathname}${url.search}`.replace(/[^\w/?=&%.,~+-]/g, encodeURIComponent)
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': 'text/html; charset=utf-8',
          'Set-Cookie': `${this.#access.cookieName}=${this.#access.openSession()}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MS / 1000}`,
        })
        res.end(
          `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${to}"><title>logkit</title><a href="${to}">open the view</a>\n`,
        )
        return
      }
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': page.type })
      res.end(req.method === 'HEAD' ? undefined : this.#files.get(page.file))
      return
    }
    if ((path === '/events' || path === '/status') && crossSite(req)) {
      refuse(res, 403, 'the web view does not answer other sites’ pages: open it at its own address')
      return
    }
    if (path === '/events') {
      if (req.method === 'HEAD') {
        refuse(res, 405, '/events is a stream: GET it', { Allow: 'GET' })
        return
      }
      this.#stream(req, res, url)
      return
    }
    if (path === '/status') {
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(this.status()))
      return
    }
    refuse(res, 404, `no such page: ${path.slice(0, 100)} (the web view has /, /events and /status)`)
  }

  #filterOf(url: URL): ViewFilter | string {
    const level = url.searchParams.get('level')
    let minLevel = 0
    if (level !== null && level !== '') {
      try {
        minLevel = parseLevel(/^\d+$/.test(level) ? Number(level) : level)
      } catch {
        return 'level: expected trace, debug, info, warn, error, fatal or a number'
      }
    }
    const sources = url.searchParams
      .getAll('source')
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '')
    if (sources.length > MAX_SOURCES_FILTER) return `source: at most ${MAX_SOURCES_FILTER} sources`
    const text = url.searchParams.get('q') ?? ''
    if (text.length > MAX_TEXT_FILTER) return `q: at most ${MAX_TEXT_FILTER} characters`
    return {
      minLevel,
      ...(sources.length === 0 ? {} : { sources: new Set(sources) }),
      ...(text === '' ? {} : { text: text.toLowerCase() }),
    }
  }

  #stream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const filter = this.#filterOf(url)
    if (typeof filter === 'string') {
      refuse(res, 400, `bad filter: ${filter}`)
      return
    }
    const ip = req.socket.remoteAddress ?? ''
    const fromIp = this.#perIp.get(ip) ?? 0
    if (fromIp >= this.#options.maxClientsPerIp) {
      this.#refused.perIp++
      refuse(
        res,
        429,
        `too many live streams from this address (${fromIp}, at most ${this.#options.maxClientsPerIp}): close another tab of this view`,
        { 'Retry-After': '5' },
      )
      return
    }
    if (this.#clients.size >= this.#options.maxClients) {
      this.#refused.total++
      refuse(
        res,
        503,
        `the web view serves ${this.#clients.size} live streams already, its limit (maxClients): try again later`,
        { 'Retry-After': '5' },
      )
      return
    }
    const lastEventId = String(req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? '')
    const resume = this.#resumeOf(lastEventId)
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    })
    req.socket.setNoDelay(true)
    const client = new SseClient(
      this.#nextClient++,
      ip,
      res,
      filter,
      this.#options.clientQueue,
      this.#options.stallMs ?? 60_000,
    )
    this.#clients.add(client)
    this.#perIp.set(ip, fromIp + 1)
    res.on('close', () => {
      client.close()
      this.#clients.delete(client)
      const n = (this.#perIp.get(ip) ?? 1) - 1
      if (n <= 0) this.#perIp.delete(ip)
      else this.#perIp.set(ip, n)
    })
    const after = resume ?? 0
    client.begin()
    client.send(
      `retry: 2000\n\n${sseEvent('hello', {
        lastId: this.#lastId,
        resumed: resume !== undefined,
        // An id this server did not give (another run's: ids began again): a fresh start, said so.
        restarted: resume === undefined && lastEventId !== '',
        title: this.#options.title ?? '',
      })}`,
    )
    if (resume !== undefined) this.#tellLetGo(client, after, filter)
    for (const entry of this.#history.since(after)) client.offer(entry)
    client.send(sseEvent('live', { lastId: this.#lastId }))
    client.end()
  }

  /**
   * The entry id a browser resumes after: its Last-Event-ID when it is one of
   * this server's (`EPOCH-N`, N not past the last id), else undefined: a
   * fresh start (an id of another run, or none), the whole history.
   */
  #resumeOf(header: string): number | undefined {
    const m = /^([0-9a-f]+)-(\d{1,15})$/.exec(header)
    if (m === null || m[1] !== this.#epoch) return undefined
    const after = Number(m[2])
    return after <= this.#lastId ? after : undefined
  }

  /** What a resume lost to the history's bound: entries let go (exact unfiltered, else at most), and feed gaps. */
  #tellLetGo(client: SseClient, after: number, filter: ViewFilter): void {
    const firstId = this.#history.firstId ?? this.#lastId + 1
    if (after >= firstId - 1) return
    const filtered = filter.minLevel > 0 || filter.sources !== undefined || filter.text !== undefined
    // Filtered, the count is of every entry let go: how many of them matched is not known any more.
    client.tellMissed(firstId - 1 - after, 'history', filtered)
    const gaps = this.#history.gapsLetGo(after)
    client.tellMissed(gaps.count, 'feed', !gaps.exact)
  }
}

/** A request a page of another site made (the browser says so), or from another origin. */
function crossSite(req: IncomingMessage): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return true
  const origin = req.headers.origin
  if (origin === undefined || origin === 'null') return origin === 'null'
  try {
    return new URL(origin).host !== req.headers.host
  } catch {
    return true
  }
}
