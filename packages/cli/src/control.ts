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
//
// Every buffer here has a bound and a policy (see ControlServerOptions):
//   request line   maxRequestBytes (64 KiB); longer: refused, connection closed
//   tail follower  the socket's write buffer up to followerMaxBytes (1 MiB);
//                  full: entries for that follower are dropped and counted, and
//                  told as `{"missed":N}` once it drained; full for
//                  followerStallMs (60 s): disconnected with a reason
//   producer table maxProducers (1,024) rows; rows idle producerIdleMs (10 min)
//                  are pruned, and a full table evicts the least recently seen
//                  (counted as producersEvicted in status)
//   tail --grep    maxGrepLength (256) characters, compiled by V8's linear-time
//                  regexp engine: no backtracking, so no pattern can stall the
//                  collector; backreferences and lookaround are refused

import { chmodSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import {
  createFormatter,
  type EntryBatch,
  isEntryBatch,
  type LogEntry,
  markTakesBatches,
  type OperatorInput,
  parseLevel,
  type RuntimeEnv,
  readSession,
  type Sink,
  type SinkComponent,
} from '@logkit/core'
import { SPAN_SOURCE, SPAN_STRIDE } from '@logkit/core/wire'
import { type Observable, tap } from 'rxjs'
import type { RunningCompose } from './compose.js'
import { type CliErrorCode, cliError, cliErrorCodes } from './errors.js'
import { PluginResolver } from './plugins.js'
import { TailHistory } from './tail-history.js'

type SetProducerLevel = (app: string, options: { level: string; source?: string }) => number

export interface TailFilter {
  readonly level?: string
  readonly source?: string
  /** A regular expression the message must match (linear-time engine; see grepMatcher). */
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

/** The bounds of the control server (see the header). */
export interface ControlServerOptions {
  /** Entries kept for `tail`'s history (default 1,000). */
  readonly historySize?: number
  /** Bytes of entries kept as bytes for the history at most (default 8 MiB; the oldest go first). */
  readonly historyMaxBytes?: number
  /** Bytes a tail follower's socket may buffer before its entries are dropped (default 1 MiB). */
  readonly followerMaxBytes?: number
  /** A follower whose buffer stays full this long is disconnected (default 60 s). */
  readonly followerStallMs?: number
  /** Longest request line (default 64 KiB). */
  readonly maxRequestBytes?: number
  /** Rows of the producer table behind `status` (default 1,024). */
  readonly maxProducers?: number
  /** A producer not seen for this long leaves the table (default 10 min). */
  readonly producerIdleMs?: number
  /** Longest `tail --grep` pattern (default 256 characters). */
  readonly maxGrepLength?: number
}

interface ProducerStats {
  readonly pid: number
  readonly source: string
  entries: number
  firstMs: number
  lastMs: number
  lastSeq: number
  gaps: number
}

/** The entries of `batches`, decoded, in order; an entry whose bytes no longer decode is left out. */
function decodeAll(batches: readonly EntryBatch[]): LogEntry[] {
  const out: LogEntry[] = []
  for (const batch of batches) {
    for (let k = 0; k < batch.length; k++) {
      try {
        out.push(batch.entry(k))
      } catch {}
    }
  }
  return out
}

/** True when buf[a, aEnd) and buf[b, bEnd) hold the same bytes. */
function sameBytes(buf: Buffer, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false
  for (let k = 0; k < aEnd - a; k++) if (buf[a + k] !== buf[b + k]) return false
  return true
}

/** A control request refused with a code of the CLI's table. */
class ControlRefusal extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message)
  }
}

// V8's linear-time regexp engine (the `l` flag) runs a pattern in time linear
// in the text, whatever the pattern: the guard against catastrophic
// backtracking. It is off unless enabled; enabling it changes nothing for
// patterns compiled without the flag.
/** V8's flag for the linear-time engine (not in the ECMAScript standard). */
const LINEAR_FLAG = 'l'
let linearRegExp = false
try {
  setFlagsFromString('--enable-experimental-regexp-engine')
  linearRegExp = new RegExp('a', LINEAR_FLAG).test('a')
} catch {
  linearRegExp = false
}

const REGEXP_SYNTAX = /[\\^$.*+?()[\]{}|]/

/**
 * The message test of `tail --grep`: a regular expression compiled for V8's
 * linear-time engine, so no pattern can stall the collector. Patterns that
 * engine cannot run (backreferences, lookaround) and patterns longer than
 * `maxLength` are refused (LOGKIT_ERR_CLI_GREP_INVALID). On a Node without
 * that engine, only a literal (a pattern without regexp syntax) is accepted,
 * matched as a substring.
 */
export function grepMatcher(pattern: string, maxLength = 256): (text: string) => boolean {
  if (pattern.length > maxLength) {
    throw new ControlRefusal(
      'LOGKIT_ERR_CLI_GREP_INVALID',
      `--grep pattern is ${pattern.length} characters, longer than ${maxLength}: shorten it`,
    )
  }
  if (!REGEXP_SYNTAX.test(pattern)) return (text) => text.includes(pattern)
  if (!linearRegExp) {
    throw new ControlRefusal(
      'LOGKIT_ERR_CLI_GREP_INVALID',
      `--grep ${JSON.stringify(pattern)}: this collector's Node has no linear-time regexp engine, so it takes only a literal text (no regexp syntax)`,
    )
  }
  let re: RegExp
  try {
    re = new RegExp(pattern, LINEAR_FLAG)
  } catch (err) {
    throw new ControlRefusal(
      'LOGKIT_ERR_CLI_GREP_INVALID',
      `--grep ${JSON.stringify(pattern)} is refused (${err instanceof Error ? err.message : String(err)}): backreferences and lookaround cannot run in linear time; use a pattern without them`,
    )
  }
  return (text) => re.test(text)
}

function matcher(filter: TailFilter, maxGrepLength: number): (entry: LogEntry) => boolean {
  const min = filter.level === undefined ? 0 : parseLevel(filter.level)
  const grep = filter.grep === undefined ? undefined : grepMatcher(String(filter.grep), maxGrepLength)
  return (entry) =>
    entry.level >= min &&
    (filter.source === undefined || entry.source === filter.source) &&
    (grep === undefined || grep(entry.msg))
}

/**
 * The identities (producer, seq) of the last `capacity` entries handed to
 * tail, so that an entry that reaches it through two pipelines sharing a
 * source shows once. Entries logkit made itself (seq 0) always show.
 */
class RecentEntries {
  readonly #keys: (string | undefined)[]
  readonly #set = new Set<string>()
  #next = 0

  constructor(readonly capacity: number) {
    this.#keys = new Array<string | undefined>(capacity)
  }

  /** True the first time an entry is offered (while it is among the last `capacity`). */
  firstTime(entry: LogEntry): boolean {
    if (entry.seq === 0) return true
    const key = `${entry.pid}:${entry.source}:${entry.seq}`
    if (this.#set.has(key)) return false
    const old = this.#keys[this.#next]
    if (old !== undefined) this.#set.delete(old)
    this.#keys[this.#next] = key
    this.#next = (this.#next + 1) % this.capacity
    this.#set.add(key)
    return true
  }
}

const reply = (body: Record<string, unknown>) => `${JSON.stringify(body)}\n`

/**
 * One `tail` client that follows. Its queue is the socket's own write buffer,
 * bounded by `maxBytes`: a line that would take it past the bound (unless the
 * buffer is empty, so that one line always goes) is dropped and counted.
 * Once every line written has been handed to the kernel, the client is told
 * how many it missed and gets lines again. Full for `stallMs`: disconnected.
 */
class Follower {
  /** Entries dropped since the buffer was last full; told on resume. */
  #missed = 0
  missedTotal = 0
  /** Most bytes the socket buffered after a write. */
  peakBytes = 0
  #unflushed = 0
  #full = false
  #stallTimer: NodeJS.Timeout | undefined

  constructor(
    readonly socket: Socket,
    readonly accepts: (entry: LogEntry) => boolean,
    readonly format: (entry: LogEntry) => string,
    readonly maxBytes: number,
    readonly stallMs: number,
    readonly onStalled: (follower: Follower) => void,
  ) {}

  get full(): boolean {
    return this.#full
  }

  offer(entry: LogEntry): void {
    if (!this.accepts(entry)) return
    if (this.#full) {
      this.#missed++
      this.missedTotal++
      return
    }
    const line = reply({ line: this.format(entry) })
    const buffered = this.socket.writableLength
    if (buffered > 0 && buffered + Buffer.byteLength(line) > this.maxBytes) {
      this.#full = true
      this.#missed++
      this.missedTotal++
      this.#stallTimer = setTimeout(() => this.onStalled(this), this.stallMs).unref()
      return
    }
    this.#write(line)
  }

  /** Ends the connection; whatever is buffered stays bounded and is let go after a grace period. */
  stop(): void {
    clearTimeout(this.#stallTimer)
  }

  #write(line: string): void {
    this.#unflushed++
    this.socket.write(line, () => this.#flushed())
    const buffered = this.socket.writableLength
    if (buffered > this.peakBytes) this.peakBytes = buffered
  }

  #flushed(): void {
    this.#unflushed--
    if (!this.#full || this.#unflushed > 0 || this.socket.destroyed) return
    // Everything written is with the kernel: say what was missed, then go on.
    clearTimeout(this.#stallTimer)
    this.#full = false
    const missed = this.#missed
    this.#missed = 0
    this.#write(reply({ missed }))
  }
}

const STALLED_GRACE_MS = 5000

/** What compose adds to each pipeline for the control server, and the server itself. */
export class ControlServer {
  readonly #history: TailHistory
  readonly #historySize: number
  readonly #followerMaxBytes: number
  readonly #followerStallMs: number
  readonly #maxRequestBytes: number
  readonly #maxProducers: number
  readonly #producerIdleMs: number
  readonly #maxGrepLength: number
  readonly #followers = new Set<Follower>()
  readonly #producers = new Map<string, ProducerStats>()
  readonly #recent = new RecentEntries(16_384)
  #producersEvicted = 0
  #followersDisconnected = 0
  /**
   * Per pipeline/sink at the last flush reply: the running pipeline's queue
   * losses (failed + dropped of its stats) and the sink's own drops over all
   * runs (compose's totals): what a flush reports is what came after.
   */
  readonly #lostAtFlush = new Map<string, { pipeline: unknown; queueLost: number; sinkDropped: number }>()
  #server: Server | undefined
  #running: RunningCompose | undefined
  socketPath: string | undefined

  constructor(options: ControlServerOptions = {}) {
    this.#historySize = options.historySize ?? 1000
    this.#history = new TailHistory(this.#historySize, options.historyMaxBytes ?? 8 * 1024 * 1024)
    // At least one socket high-water mark, so that a full buffer always ends in a flush.
    this.#followerMaxBytes = Math.max(16 * 1024, options.followerMaxBytes ?? 1024 * 1024)
    this.#followerStallMs = options.followerStallMs ?? 60_000
    this.#maxRequestBytes = options.maxRequestBytes ?? 64 * 1024
    this.#maxProducers = Math.max(1, options.maxProducers ?? 1024)
    this.#producerIdleMs = options.producerIdleMs ?? 10 * 60_000
    this.#maxGrepLength = options.maxGrepLength ?? 256
  }

  /** Entries from before this run (sinks' history files), shown to `tail` before this run's own; oldest first. */
  seedHistory(entries: readonly LogEntry[]): void {
    this.#history.addEntries(entries)
  }

  /**
   * A sink that keeps the history and feeds tail followers. Its write never
   * waits (a follower that cannot keep up drops, counts and is told), so its
   * `block` queue holds the pipeline back no longer than formatting takes; a
   * drop policy would lose entries a follower is never told of when a source
   * hands over a batch beyond the queue's room. With `shared`, the pipeline
   * reads a source it shares with others (see shareSource), so an entry may
   * come through several pipelines: tail shows it once.
   */
  tapSink(shared = false): SinkComponent {
    const sink: Sink = {
      write: (batch) => this.#written(shared ? batch.filter((e) => this.#recent.firstTime(e)) : batch),
      // Entries that are still bytes are decoded while someone follows (or
      // to show each once across shared pipelines); else the history keeps
      // the last ones as bytes, decoded when a tail asks.
      writeEntries: (batches) => {
        if (shared || this.#followers.size > 0) return sink.write(decodeAll(batches))
        this.#history.addBatches(batches)
      },
    }
    return { id: 'logkit.tail', sink, queue: { policy: 'block', capacity: 10_000 } }
  }

  /**
   * An operator put before the manifest's own: counts producers as entries
   * arrive. It takes batches (entries that are still bytes) as they are,
   * reading pid, seq and source from them without decoding the entries.
   */
  intake(): OperatorInput {
    return markTakesBatches((items: Observable<LogEntry | EntryBatch>) =>
      items.pipe(tap((item) => (isEntryBatch(item) ? this.#countBatch(item) : this.#count(item)))),
    )
  }

  #count(entry: LogEntry): void {
    if (entry.source === 'logkit' && entry.pid === process.pid) return
    const now = Date.now()
    this.#tally(this.#producerOf(entry.pid, entry.source, entry.seq, now), entry.seq, now)
  }

  /** #count for each entry of a batch; a run of one producer's entries looks its record up once. */
  #countBatch(batch: EntryBatch): void {
    const index = batch.index
    const buf = index.buf
    const spans = index.spans
    const now = Date.now()
    let p: ProducerStats | undefined
    let lastPid = -1
    let lastStart = 0
    let lastEnd = 0
    for (let k = 0; k < batch.length; k++) {
      const row = batch.row(k)
      const pid = index.pid[row] as number
      const seq = index.seq[row] as number
      const at = row * SPAN_STRIDE + SPAN_SOURCE
      const start = spans[at] as number
      const end = spans[at + 1] as number
      if (p === undefined || pid !== lastPid || !sameBytes(buf, start, end, lastStart, lastEnd)) {
        p = this.#producerOf(pid, buf.toString('utf8', start, end), seq, now)
        lastPid = pid
        lastStart = start
        lastEnd = end
      }
      this.#tally(p, seq, now)
    }
  }

  /** The record of producer (pid, source), made (with room made for it) when it is new. */
  #producerOf(pid: number, source: string, seq: number, now: number): ProducerStats {
    const key = `${pid}:${source}`
    let p = this.#producers.get(key)
    if (p === undefined) {
      if (this.#producers.size >= this.#maxProducers) this.#makeRoom(now)
      p = { pid, source, entries: 0, firstMs: now, lastMs: now, lastSeq: seq - 1, gaps: 0 }
      this.#producers.set(key, p)
    }
    return p
  }

  #tally(p: ProducerStats, seq: number, now: number): void {
    // Seen already: through another pipeline that shares its source, or replayed.
    if (seq !== 0 && seq <= p.lastSeq) return
    p.entries++
    p.lastMs = now
    if (seq > p.lastSeq + 1) p.gaps += seq - p.lastSeq - 1
    if (seq > p.lastSeq) p.lastSeq = seq
  }

  /** Prunes idle producers; if the table is still full, evicts the least recently seen. */
  #makeRoom(now: number): void {
    this.#prune(now)
    if (this.#producers.size < this.#maxProducers) return
    let oldestKey: string | undefined
    let oldestMs = Number.POSITIVE_INFINITY
    for (const [key, p] of this.#producers) {
      if (p.lastMs < oldestMs) {
        oldestMs = p.lastMs
        oldestKey = key
      }
    }
    if (oldestKey !== undefined) {
      this.#producers.delete(oldestKey)
      this.#producersEvicted++
    }
  }

  #prune(now: number): void {
    for (const [key, p] of this.#producers) {
      if (now - p.lastMs > this.#producerIdleMs) this.#producers.delete(key)
    }
  }

  #written(batch: readonly LogEntry[]): void {
    this.#history.addEntries(batch)
    if (this.#followers.size === 0) return
    for (const entry of batch) for (const f of this.#followers) f.offer(entry)
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
    for (const f of this.#followers) {
      f.stop()
      f.socket.end()
    }
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

  /** Reads one request line of at most maxRequestBytes, then handles it; later input is discarded. */
  #serve(socket: Socket): void {
    socket.on('error', () => {})
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a)
      const end = nl === -1 ? chunk.length : nl
      if (size + end > this.#maxRequestBytes) {
        socket.off('data', onData)
        socket.on('data', () => {})
        this.#refuse(
          socket,
          new ControlRefusal(
            'LOGKIT_ERR_CLI_REQUEST_TOO_LONG',
            `the request line is longer than ${this.#maxRequestBytes} bytes: a control request is one short JSON line`,
          ),
        )
        return
      }
      chunks.push(chunk.subarray(0, end))
      size += end
      if (nl === -1) return
      socket.off('data', onData)
      socket.on('data', () => {})
      const line = Buffer.concat(chunks).toString('utf8')
      let request: Request
      try {
        request = JSON.parse(line) as Request
      } catch {
        this.#refuse(socket, new ControlRefusal('LOGKIT_ERR_CLI_CONTROL', 'the request is not JSON'))
        return
      }
      void this.#handle(request, socket).catch((err: unknown) => this.#refuse(socket, err))
    }
    socket.on('data', onData)
  }

  #refuse(socket: Socket, err: unknown): void {
    const code = err instanceof ControlRefusal ? err.code : 'LOGKIT_ERR_CLI_CONTROL'
    socket.end(reply({ ok: false, code, error: err instanceof Error ? err.message : String(err) }))
  }

  async #handle(request: Request, socket: Socket): Promise<void> {
    const running = this.#running
    if (running === undefined) throw new Error('compose is not running yet')
    if (request.op === 'status') {
      socket.end(reply({ ok: true, status: this.status() }))
      return
    }
    if (request.op === 'flush') {
      await Promise.all(
        running.runners.map((r) => (r.pipeline?.state === 'running' ? r.pipeline.flush() : undefined)),
      )
      socket.end(reply({ ok: true, ...this.#flushReport(running) }))
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
      socket.end(reply({ ok: true, producers }))
      return
    }
    if (request.op === 'tail') {
      const accepts = matcher(request, this.#maxGrepLength)
      const formatter = createFormatter({
        format: request.format ?? 'pretty',
        colors: request.colors === true,
      })
      const format = (entry: LogEntry) => formatter(entry).replace(/\n$/, '')
      // -n 0: none (a slice from -0 would be all of it).
      const wanted = Math.max(0, Math.min(this.#historySize, Number(request.history ?? this.#historySize)))
      const history = wanted === 0 ? [] : this.#history.entries().filter(accepts).slice(-wanted)
      for (const entry of history) socket.write(reply({ line: format(entry) }))
      if (request.follow === false) {
        socket.end()
        return
      }
      const follower = new Follower(
        socket,
        accepts,
        format,
        this.#followerMaxBytes,
        this.#followerStallMs,
        (f) => this.#disconnect(f),
      )
      this.#followers.add(follower)
      socket.on('close', () => {
        follower.stop()
        this.#followers.delete(follower)
      })
      return
    }
    throw new Error(`unknown request ${JSON.stringify((request as { op?: unknown }).op)}`)
  }

  /** A follower that stayed full for followerStallMs: told why (after what it has buffered), then let go. */
  #disconnect(follower: Follower): void {
    this.#followers.delete(follower)
    this.#followersDisconnected++
    const { socket } = follower
    socket.end(
      reply({
        ok: false,
        code: 'LOGKIT_ERR_CLI_TAIL_STALLED',
        error: `tail read nothing for ${this.#followerStallMs} ms with ${follower.maxBytes} bytes waiting (${follower.missedTotal} entries missed): the collector disconnected it; start tail again`,
      }),
    )
    // A client that never reads again would keep the buffer: let it go.
    setTimeout(() => socket.destroy(), STALLED_GRACE_MS).unref()
  }

  /**
   * What a flush could not make durable, per sink: entries lost since the last
   * flush reply (failed writes and queue drops, from the pipeline's stats, and
   * what the sink dropped itself, from its `dropped` diagnostics, each counted
   * once), and entries held (a failing sink under `block` retries them).
   */
  #flushReport(running: RunningCompose): {
    durable: boolean
    sinks: {
      pipeline: string
      sink: string
      failed: number
      dropped: number
      droppedBySink: number
      lost: number
      held: number
    }[]
  } {
    const sinks = []
    for (const r of running.runners) {
      const pipeline = r.pipeline
      for (const s of pipeline?.stats().sinks ?? []) {
        if (s.id.startsWith('logkit.')) continue
        const key = `${r.plan.name}\u0000${s.id}`
        const before = this.#lostAtFlush.get(key)
        const queueLost = s.failed + s.dropped
        // A sink's own drops are reported before its flush() resolves (the
        // file sink reports what its guard dropped then), so they are counted here.
        const sinkDropped = r.totals.droppedBySink.get(s.id) ?? 0
        const queueSince = before !== undefined && before.pipeline === pipeline ? before.queueLost : 0
        const sinkSince = before?.sinkDropped ?? 0
        this.#lostAtFlush.set(key, { pipeline, queueLost, sinkDropped })
        const held = (s as { held?: number }).held ?? 0
        sinks.push({
          pipeline: r.plan.name,
          sink: s.id,
          failed: s.failed,
          dropped: s.dropped,
          droppedBySink: sinkDropped,
          lost: queueLost - queueSince + (sinkDropped - sinkSince),
          held,
        })
      }
    }
    return { durable: sinks.every((s) => s.lost === 0 && s.held === 0), sinks }
  }

  status(): unknown {
    const running = this.#running
    this.#prune(Date.now())
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
      producersEvicted: this.#producersEvicted,
      followers: [...this.#followers].map((f) => ({
        bufferedBytes: f.socket.writableLength,
        peakBufferedBytes: f.peakBytes,
        maxBytes: f.maxBytes,
        full: f.full,
        missed: f.missedTotal,
      })),
      followersDisconnected: this.#followersDisconnected,
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
  onConnected?: () => void,
): Promise<void> {
  const socket = await connect(app, env)
  onConnected?.()
  socket.write(`${JSON.stringify(body)}\n`)
  // Removed at the end: a long-lived signal (tail --web polls with one) must not collect listeners.
  const abort = () => socket.destroy()
  signal?.addEventListener('abort', abort, { once: true })
  const lines = createInterface({ input: socket })
  try {
    for await (const line of lines) {
      const reply = JSON.parse(line) as Record<string, unknown>
      if (reply['ok'] === false) throw cliError(replyCode(reply['code']), String(reply['error']))
      onReply(reply)
    }
  } catch (err) {
    if (signal?.aborted === true) return
    throw err
  } finally {
    signal?.removeEventListener('abort', abort)
    socket.destroy()
  }
}

/** The code of a refused request, when it is one of the CLI's. */
function replyCode(code: unknown): CliErrorCode {
  return typeof code === 'string' && Object.hasOwn(cliErrorCodes, code)
    ? (code as CliErrorCode)
    : 'LOGKIT_ERR_CLI_CONTROL'
}

/** The line tail prints where it missed entries. */
export function missedLine(missed: number): string {
  return `… ${missed} entries missed (tail could not keep up)`
}

export interface FlushReply {
  readonly durable: boolean
  readonly sinks: readonly {
    pipeline: string
    sink: string
    failed: number
    dropped: number
    /** Entries the sink dropped itself (the file sink's free-space guard), in total. */
    droppedBySink?: number
    lost: number
    held: number
  }[]
}

/** Human lines for a flush that could not make everything durable. */
export function flushLines(flush: FlushReply): string[] {
  const out: string[] = []
  for (const s of flush.sinks) {
    if (s.lost > 0) {
      out.push(
        `${s.pipeline}/${s.sink}: ${s.lost} entries lost since the last flush (in total: ${s.failed} failed to write, ${s.dropped} dropped by the queue, ${s.droppedBySink ?? 0} dropped by the sink)`,
      )
    }
    if (s.held > 0) {
      out.push(
        `${s.pipeline}/${s.sink}: ${s.held} entries not written yet: the sink fails and they are held for retry`,
      )
    }
  }
  return out
}

/** A component's own status (Sink.status, a source's status()) as `name value, …`. */
function statusText(status: Record<string, unknown>): string {
  return Object.entries(status)
    .map(
      ([name, value]) =>
        `${name} ${value === '' ? '-' : typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
    )
    .join(', ')
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
      sources?: { id: string; status?: Record<string, unknown> }[]
      sinks: {
        id: string
        written: number
        queued: number
        dropped: number
        failed: number
        capacity: number
        status?: Record<string, unknown>
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
    for (const source of p.sources ?? []) {
      if (source.status !== undefined) out.push(`    source ${source.id}: ${statusText(source.status)}`)
    }
    for (const sink of p.sinks) {
      out.push(
        `    sink ${sink.id}: ${sink.written} written, queue ${sink.queued}/${sink.capacity}, ${sink.dropped} dropped, ${sink.failed} failed`,
      )
      if (sink.status !== undefined) out.push(`      ${statusText(sink.status)}`)
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
