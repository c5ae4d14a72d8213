// The control socket compose serves, and its clients (tail, status, flush, level).
//
//   logkit compose ── control.sock (unix socket in the app's session dir, 0600)
//        ▲  one JSON request line → JSON reply lines (status/flush/level: one, then close;
//        │  tail: the recent history, then live lines until the client goes)
//   logkit tail | status | flush | level --app NAME
//
// Clients find the socket through the app's session file (transport "control").
// The collector keeps the last `historySize` entries (after the operators) for
// tail, and counts producers as entries come in (before the operators), so
// that seq gaps are real gaps and not filtered entries.

import { chmodSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import {
  createFormatter,
  type LogEntry,
  type OperatorInput,
  parseLevel,
  type RuntimeEnv,
  readSession,
  type Sink,
  type SinkComponent,
} from '@logkit/core'
import { tap } from 'rxjs'
import type { RunningCompose } from './compose.js'
import { cliError } from './errors.js'
import { PluginResolver } from './plugins.js'

type SetProducerLevel = (app: string, options: { level: string; source?: string }) => number

export interface TailFilter {
  readonly level?: string
  readonly source?: string
  readonly grep?: string
}

export type Request =
  | { readonly op: 'status' }
  | { readonly op: 'flush' }
  | ({
      readonly op: 'tail'
      readonly history?: number
      readonly follow?: boolean
      readonly colors?: boolean
      readonly format?: 'pretty' | 'json'
    } & TailFilter)
  | { readonly op: 'level'; readonly level: string; readonly source?: string }

interface ProducerStats {
  readonly pid: number
  readonly source: string
  entries: number
  firstMs: number
  lastMs: number
  lastSeq: number
  gaps: number
}

interface Follower {
  readonly socket: Socket
  readonly accepts: (entry: LogEntry) => boolean
  readonly format: (entry: LogEntry) => string
}

function matcher(filter: TailFilter): (entry: LogEntry) => boolean {
  const min = filter.level === undefined ? 0 : parseLevel(filter.level)
  const grep = filter.grep === undefined ? undefined : new RegExp(filter.grep)
  return (entry) =>
    entry.level >= min &&
    (filter.source === undefined || entry.source === filter.source) &&
    (grep === undefined || grep.test(entry.msg))
}

/** What compose adds to each pipeline for the control server, and the server itself. */
export class ControlServer {
  readonly #history: LogEntry[] = []
  readonly #historySize: number
  readonly #followers = new Set<Follower>()
  readonly #producers = new Map<string, ProducerStats>()
  #server: Server | undefined
  #running: RunningCompose | undefined
  socketPath: string | undefined

  constructor({ historySize = 1000 }: { historySize?: number } = {}) {
    this.#historySize = historySize
  }

  /** A sink that keeps the history and feeds tail followers; never blocks the pipeline. */
  tapSink(): SinkComponent {
    const sink: Sink = { write: (batch) => this.#written(batch) }
    return { id: 'logkit.tail', sink, queue: { policy: 'drop_oldest', capacity: 10_000 } }
  }

  /** An operator put before the manifest's own: counts producers as entries arrive. */
  intake(): OperatorInput {
    return tap((entry: LogEntry) => this.#count(entry))
  }

  #count(entry: LogEntry): void {
    if (entry.source === 'logkit' && entry.pid === process.pid) return
    const key = `${entry.pid}:${entry.source}`
    const now = Date.now()
    let p = this.#producers.get(key)
    if (p === undefined) {
      p = {
        pid: entry.pid,
        source: entry.source,
        entries: 0,
        firstMs: now,
        lastMs: now,
        lastSeq: entry.seq - 1,
        gaps: 0,
      }
      this.#producers.set(key, p)
    }
    p.entries++
    p.lastMs = now
    if (entry.seq > p.lastSeq + 1) p.gaps += entry.seq - p.lastSeq - 1
    if (entry.seq > p.lastSeq) p.lastSeq = entry.seq
  }

  #written(batch: readonly LogEntry[]): void {
    for (const entry of batch) {
      this.#history.push(entry)
      for (const f of this.#followers)
        if (f.accepts(entry)) f.socket.write(`${JSON.stringify({ line: f.format(entry) })}\n`)
    }
    if (this.#history.length > this.#historySize)
      this.#history.splice(0, this.#history.length - this.#historySize)
  }

  /** Listens at `path` (0600); compose calls it once its pipelines run. */
  async listen(path: string, running: RunningCompose): Promise<void> {
    this.#running = running
    try {
      unlinkSync(path) // a stale socket of a collector that is gone: the session lock says we own the app
    } catch {}
    const server = createServer((socket) => this.#serve(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => resolve())
    })
    chmodSync(path, 0o600)
    server.unref()
    this.#server = server
    this.socketPath = path
  }

  async close(): Promise<void> {
    for (const f of this.#followers) f.socket.end()
    this.#followers.clear()
    const server = this.#server
    if (server === undefined) return
    await new Promise<void>((resolve) => server.close(() => resolve()))
    if (this.socketPath !== undefined) {
      try {
        unlinkSync(this.socketPath)
      } catch {}
    }
  }

  #serve(socket: Socket): void {
    socket.on('error', () => {})
    const lines = createInterface({ input: socket })
    lines.once('line', (line) => {
      lines.close()
      let request: Request
      try {
        request = JSON.parse(line) as Request
      } catch {
        socket.end(`${JSON.stringify({ ok: false, error: 'the request is not JSON' })}\n`)
        return
      }
      void this.#handle(request, socket).catch((err: unknown) => {
        socket.end(
          `${JSON.stringify({ ok: false, error: err instanceof Error ? err.message : String(err) })}\n`,
        )
      })
    })
  }

  async #handle(request: Request, socket: Socket): Promise<void> {
    const running = this.#running
    if (running === undefined) throw new Error('compose is not running yet')
    if (request.op === 'status') {
      socket.end(`${JSON.stringify({ ok: true, status: this.status() })}\n`)
      return
    }
    if (request.op === 'flush') {
      await Promise.all(
        running.runners.map((r) => (r.pipeline?.state === 'running' ? r.pipeline.flush() : undefined)),
      )
      socket.end(`${JSON.stringify({ ok: true })}\n`)
      return
    }
    if (request.op === 'level') {
      parseLevel(request.level)
      // Levels travel through shm's control word: load the shm package the
      // manifest resolves to (from its folder, then this CLI's install).
      const file = new PluginResolver(dirname(resolve(running.plan.file))).resolvePackage(
        '@logkit/transport-shm',
      )
      const shm =
        file === undefined
          ? undefined
          : ((await import(pathToFileURL(file).href)) as { setProducerLevel?: SetProducerLevel })
      if (shm?.setProducerLevel === undefined) {
        throw new Error(
          'no transport of this collector can change producer levels at run time: producers must log through @logkit/transport-shm',
        )
      }
      const producers = shm.setProducerLevel(running.plan.app, {
        level: request.level,
        ...(request.source === undefined ? {} : { source: request.source }),
      })
      socket.end(`${JSON.stringify({ ok: true, producers })}\n`)
      return
    }
    if (request.op === 'tail') {
      const accepts = matcher(request)
      const formatter = createFormatter({
        format: request.format ?? 'pretty',
        colors: request.colors === true,
      })
      const format = (entry: LogEntry) => formatter(entry).replace(/\n$/, '')
      const history = this.#history.filter(accepts).slice(-(request.history ?? this.#historySize))
      for (const entry of history) socket.write(`${JSON.stringify({ line: format(entry) })}\n`)
      if (request.follow === false) {
        socket.end()
        return
      }
      const follower: Follower = { socket, accepts, format }
      this.#followers.add(follower)
      socket.on('close', () => this.#followers.delete(follower))
      return
    }
    throw new Error(`unknown request ${JSON.stringify((request as { op?: unknown }).op)}`)
  }

  status(): unknown {
    const running = this.#running
    return {
      pid: process.pid,
      app: running?.plan.app,
      pipelines: (running?.runners ?? []).map((r) => {
        const stats = r.pipeline?.stats()
        return {
          name: r.plan.name,
          state: r.state,
          in: stats?.in ?? 0,
          out: stats?.out ?? 0,
          sources: stats?.sources ?? [],
          sinks: (stats?.sinks ?? []).filter((s) => !s.id.startsWith('logkit.')),
          diagnostics: stats?.diagnostics ?? {},
        }
      }),
      producers: [...this.#producers.values()].map((p) => ({
        pid: p.pid,
        source: p.source,
        entries: p.entries,
        perSecond: p.lastMs > p.firstMs ? Math.round((p.entries * 1000) / (p.lastMs - p.firstMs)) : p.entries,
        lastSeq: p.lastSeq,
        seqGaps: p.gaps,
        lastSeenMs: p.lastMs,
      })),
    }
  }
}

export function controlSocketPath(appDir: string): string {
  return join(appDir, 'control.sock')
}

/** Connects to the control socket of `app`'s running compose; throws LOGKIT_ERR_CLI_NO_COLLECTOR when there is none. */
export function connect(app: string, env: RuntimeEnv): Promise<Socket> {
  const session = readSession(app, env)
  const path = (session?.transports['control'] as { socket?: unknown } | undefined)?.socket
  if (typeof path !== 'string') {
    return Promise.reject(
      cliError(
        'LOGKIT_ERR_CLI_NO_COLLECTOR',
        `no running \`logkit compose\` for app "${app}" (no control socket in its session): start one first`,
      ),
    )
  }
  return new Promise((resolve, reject) => {
    const socket = createConnection(path)
    socket.once('connect', () => resolve(socket))
    socket.once('error', (err) =>
      reject(
        cliError(
          'LOGKIT_ERR_CLI_NO_COLLECTOR',
          `cannot reach the collector of app "${app}" at ${path}: ${err.message}`,
        ),
      ),
    )
  })
}

/** Sends a request; calls `onReply` for each reply line; resolves when the collector closes the connection. */
export async function request(
  app: string,
  env: RuntimeEnv,
  body: Request,
  onReply: (reply: Record<string, unknown>) => void,
  signal?: AbortSignal,
): Promise<void> {
  const socket = await connect(app, env)
  socket.write(`${JSON.stringify(body)}\n`)
  signal?.addEventListener('abort', () => socket.destroy(), { once: true })
  const lines = createInterface({ input: socket })
  try {
    for await (const line of lines) {
      const reply = JSON.parse(line) as Record<string, unknown>
      if (reply['ok'] === false) throw cliError('LOGKIT_ERR_CLI_CONTROL', String(reply['error']))
      onReply(reply)
    }
  } catch (err) {
    if (signal?.aborted === true) return
    throw err
  }
}

/** Human lines for `logkit status`. */
export function statusLines(status: Record<string, unknown>): string[] {
  const s = status as {
    pid: number
    app: string
    pipelines: {
      name: string
      state: string
      in: number
      out: number
      sinks: {
        id: string
        written: number
        queued: number
        dropped: number
        failed: number
        capacity: number
      }[]
      diagnostics: Record<string, number>
    }[]
    producers: {
      pid: number
      source: string
      entries: number
      perSecond: number
      lastSeq: number
      seqGaps: number
      lastSeenMs: number
    }[]
  }
  const out = [`app ${s.app}: collector pid ${s.pid}`]
  for (const p of s.pipelines) {
    out.push(`  pipeline ${p.name} (${p.state}): ${p.in} in, ${p.out} out`)
    for (const sink of p.sinks) {
      out.push(
        `    sink ${sink.id}: ${sink.written} written, queue ${sink.queued}/${sink.capacity}, ${sink.dropped} dropped, ${sink.failed} failed`,
      )
    }
    const diagnostics = Object.entries(p.diagnostics)
    if (diagnostics.length > 0)
      out.push(`    diagnostics: ${diagnostics.map(([c, n]) => `${c} ${n}`).join(', ')}`)
  }
  out.push(`  producers: ${s.producers.length}`)
  const now = Date.now()
  for (const p of s.producers) {
    out.push(
      `    ${p.source} (pid ${p.pid}): ${p.entries} entries, ~${p.perSecond}/s, last seq ${p.lastSeq}, ${p.seqGaps} seq gaps, last seen ${((now - p.lastSeenMs) / 1000).toFixed(1)}s ago`,
    )
  }
  return out
}
