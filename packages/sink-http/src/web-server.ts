// The web view's server, shared by the `http` sink (inside compose) and
// `logkit tail --web` (beside it, fed through the control socket):
//
//   publish(entries) ─▶ render once (view-entry) ─┬─▶ history ring
//   (never waits)                                 ├─▶ producer table, rates
//                                                 └─▶ each SseClient (bounded queue)
//
//   GET /             the page (public/index.html; ?token= sets the cookie)
//   GET /app.js, /style.css
//   GET /events       SSE: history first, then live; ?level= &source=a,b &q=
//                     filter on the server; Last-Event-ID resumes
//   GET /status       JSON: clients and their queues, history, producers, rates
//
// Node's http module is enough: five routes, no body parsing, and SSE needs
// the raw response (write() and 'drain') that frameworks wrap.

import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type LogEntry, parseLevel } from '@logkit/core'
import { Access, refuse, SECURITY_HEADERS, TOKEN_COOKIE, TOKEN_PARAM } from './access.js'
import { httpSinkError } from './errors.js'
import { History } from './history.js'
import type { HttpSinkConfig } from './options.js'
import { ProducerTable } from './producers.js'
import { RateWindow } from './rates.js'
import { SseClient } from './sse-client.js'
import { sseEvent, type ViewEntry, type ViewFilter, viewEntry } from './view-entry.js'

export interface WebServerOptions extends HttpSinkConfig {
  /** The collector's status (as `logkit status --json` prints it), for the producer panel. */
  readonly status?: (() => unknown) | undefined
  /** What the page calls this view (the app's name). */
  readonly title?: string | undefined
  /** A client whose socket stays full this long is closed (default 60 s). */
  readonly stallMs?: number | undefined
  /** A comment line to every client this often, so that proxies keep the stream (default 15 s). */
  readonly keepAliveMs?: number | undefined
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
    const server = createServer((req, res) => this.#route(req, res))
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
    const every = this.#options.keepAliveMs ?? 15_000
    this.#keepAlive = setInterval(() => {
      for (const c of this.#clients) c.send(': keep-alive\n\n')
    }, every).unref()
  }

  /** Hands entries to the history and to every client; never waits. */
  publish(entries: readonly LogEntry[]): void {
    const now = Date.now()
    for (const c of this.#clients) c.begin()
    for (const entry of entries) {
      const view = viewEntry(++this.#lastId, entry)
      this.#history.add(view)
      this.#producers.observe(entry, now)
      this.#rates.add(entry.source, entry.level, now)
      for (const c of this.#clients) c.offer(view)
    }
    for (const c of this.#clients) c.end()
  }

  /** The entries kept for browsers that connect, as the page gets them (parsed), oldest first. */
  recent(): Record<string, unknown>[] {
    return this.#history.since(0).map((e) => JSON.parse(e.event.slice(e.event.indexOf('data: ') + 6)))
  }

  /**
   * Entries the feed lost before they got here (`logkit tail --web`: the
   * control socket's `missed`): the ids skip them, and every client is told.
   */
  feedMissed(count: number): void {
    this.#feedMissed += count
    this.#lastId += count
    for (const c of this.#clients) c.tellMissed(count, 'feed')
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

  #route(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', () => {})
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
        // The link with ?token=: the browser keeps it as a cookie, the address bar loses it.
        const token = url.searchParams.get(TOKEN_PARAM) ?? ''
        url.searchParams.delete(TOKEN_PARAM)
        res.writeHead(303, {
          ...SECURITY_HEADERS,
          Location: `${url.pathname}${url.search}`,
          'Set-Cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        })
        res.end()
        return
      }
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': page.type })
      res.end(req.method === 'HEAD' ? undefined : this.#files.get(page.file))
      return
    }
    if (path === '/events') {
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
    const resume = Number(req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? Number.NaN)
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
    const after = Number.isSafeInteger(resume) && resume >= 0 ? resume : 0
    client.send(
      `retry: 2000\n\n${sseEvent('hello', { lastId: this.#lastId, resumed: after > 0, title: this.#options.title ?? '' })}`,
    )
    const firstId = this.#history.firstId ?? this.#lastId + 1
    if (after > 0 && after < firstId - 1) client.tellMissed(firstId - 1 - after, 'history')
    const history: ViewEntry[] = this.#history.since(after)
    client.begin()
    for (const entry of history) client.offer(entry)
    client.end()
    client.send(sseEvent('live', { lastId: this.#lastId }))
  }
}
