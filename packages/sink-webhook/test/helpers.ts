// Shared test helpers: a real HTTP server on 127.0.0.1 whose answers a test
// scripts, entries, batches of real frames, and a diagnostics collector.
// Servers are closed by the test that made them (t.teardown).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { gunzipSync } from 'node:zlib'
import type { Diagnostic } from '@logkit/core'
import { createEntry, FrameEncoder, type LogEntry } from '@logkit/core'
import { EntryBatch, EntryIndex } from '@logkit/core/wire'
import type { Test } from 'tap'

export interface Received {
  readonly method: string
  /** Path and query as received (only tests see it). */
  readonly url: string
  readonly headers: IncomingMessage['headers']
  /** The body, gunzipped when it came gzipped. */
  readonly body: Buffer
  readonly at: number
}

/**
 * What the server does with a request: a status, headers and body, or 'stall'
 * (never answer), or 'reset'; 'cut' answers 200 and resets the connection
 * part way through the body, 'slow-body' answers 200 and never ends the body.
 */
export type Answer =
  | {
      status: number
      headers?: Record<string, string>
      body?: string
      /** Held until this settles (a test checks what happened meanwhile), or this many ms. */
      until?: Promise<unknown>
      delayMs?: number
    }
  | 'stall'
  | 'reset'
  | 'cut'
  | 'slow-body'

export interface TestServer {
  readonly url: string
  readonly port: number
  readonly received: Received[]
  /** Answers for the next requests, in order; afterwards `fallback` (default 200). */
  readonly answers: Answer[]
  fallback: Answer
  /** Sockets open now. */
  readonly sockets: Set<Socket>
  /** The most requests that were waiting for their answer at once. */
  readonly maxInFlight: number
  close(): Promise<void>
  /** Resolves when `n` requests have been received (past included). */
  requests(n: number): Promise<void>
}

/** The path a test server's URL carries: a secret the tests check never leaks. */
export const SECRET_PATH = '/services/T0SECRET/B0SECRET/XsecretTOKENvalue123'

export async function startServer(
  t: Test,
  fallback: Answer = { status: 200, body: 'ok' },
): Promise<TestServer> {
  const received: Received[] = []
  const answers: Answer[] = []
  const sockets = new Set<Socket>()
  const stalled: ServerResponse[] = []
  const waiters: { n: number; resolve: () => void }[] = []
  let inFlight = 0
  let maxInFlight = 0
  const server: Server = createServer((req, res) => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.once('close', () => inFlight--)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
      })
      for (const w of waiters.filter((w) => w.n <= received.length)) w.resolve()
      const answer = answers.shift() ?? self.fallback
      if (answer === 'stall') {
        stalled.push(res)
        return
      }
      if (answer === 'reset') {
        req.socket.destroy()
        return
      }
      if (answer === 'cut' || answer === 'slow-body') {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
        res.write('accepted, and then')
        if (answer === 'cut') setTimeout(() => req.socket.destroy(), 50)
        else stalled.push(res)
        return
      }
      const reply = () => {
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers })
        res.end(answer.body ?? '')
      }
      if (answer.until !== undefined) {
        stalled.push(res)
        void answer.until.then(() => {
          if (!res.destroyed) reply()
        })
      } else if (answer.delayMs !== undefined) setTimeout(reply, answer.delayMs)
      else reply()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const self: TestServer = {
    url: `http://127.0.0.1:${port}${SECRET_PATH}?token=query-secret-42`,
    port,
    received,
    answers,
    fallback,
    sockets,
    get maxInFlight() {
      return maxInFlight
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.destroy()
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
    requests: (n) =>
      received.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
  }
  t.teardown(() => self.close())
  return self
}

export function entries(n: number, from = 1, init: Parameters<typeof createEntry>[0] = {}): LogEntry[] {
  return Array.from({ length: n }, (_, i) =>
    createEntry({
      msg: `entry ${from + i}`,
      seq: from + i,
      app: 'test',
      source: 'suite',
      hostname: 'host-1',
      pid: 4242,
      fields: { i: from + i },
      ...init,
    }),
  )
}

const encoder = new FrameEncoder({ maxFrameSize: 16 * 1024 * 1024 })

/** A batch of `list`, as bytes of real frames (as the byte path hands them to a sink). */
export function batchOf(list: readonly LogEntry[], perFrame = 50): EntryBatch {
  const frames: Buffer[] = []
  for (let i = 0; i < list.length; i += perFrame)
    frames.push(Buffer.from(encoder.batch(list.slice(i, i + perFrame))))
  const index = new EntryIndex({ checkCrc: true })
  index.index(Buffer.concat(frames))
  return EntryBatch.of(index)
}

/** The NDJSON lines of a body, parsed. */
export function ndjson(body: Buffer): Record<string, unknown>[] {
  const text = body.toString('utf8')
  return text === ''
    ? []
    : text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** Collects diagnostics. */
export function diagnostics() {
  const seen: Omit<Diagnostic, 'stage' | 'component'>[] = []
  return {
    seen,
    report: (d: Omit<Diagnostic, 'stage' | 'component'>) => {
      seen.push(d)
    },
    codes: () => seen.map((d) => d.code),
  }
}

/** Every text a test could print of a sink: messages, details, excerpts. */
export function leaks(text: string, server: TestServer, extra: readonly string[] = []): string[] {
  const secrets = [SECRET_PATH, 'T0SECRET', 'XsecretTOKENvalue123', 'query-secret-42', server.url, ...extra]
  return secrets.filter((s) => text.includes(s))
}
