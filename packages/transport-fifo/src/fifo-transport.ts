// The producer side: a Transport for createLogger that writes frames into a
// named pipe of its own, SOURCE.PID.fifo in the app's directory.
//
//   write(frame) ─▶ FrameQueue (bounded) ─▶ writeSync on the pipe (O_WRONLY|O_NONBLOCK) ─▶ collector
//                        ▲                          │ EPIPE: collector gone
//                        └─ rewind, hello again ◀───┘ reconnect when a collector (re)appears
//
// The pipe is opened non-blocking (ENXIO means no reader yet: keep buffering
// and retry on an unref'd timer) and written with non-blocking writeSync: a
// write takes what the pipe has room for and returns, EAGAIN when it is full.
// Writes are gathered: the hot path copies the frame into the queue and asks
// for a write on the next turn of the event loop (or at once past 64 KiB),
// so a busy logger makes one system call per pipe-full, not per entry. A full
// pipe is tried again on a 1 ms timer; process exit writes what the pipe takes.
//
// A full buffer applies the policy. `block` waits, synchronously and at most
// blockMs, for the pipe to take enough of the buffer, but only while a
// collector has the pipe open: with none there is nothing to wait for, and
// the frame is dropped (counted) at once. Once a wait ran out, the writes of
// that drop episode drop at once too (a stopped collector must not cost every
// call blockMs); the episode ends when the buffer is half empty again. The
// owner hears of each episode once (LOGKIT_W_TRANSPORT_DROPPING).
//
// close() waits up to closeTimeoutMs for a collector to come (back) and take
// the buffer, even when none runs right now. What it gives up is counted
// (stats), warned about (LOGKIT_W_FIFO_ABANDONED) and left in a note beside
// the pipe, which the next collector reads as the goodbye it never got
// (abandoned-note.ts). The hello the logger sends first is kept and sent
// again at the start of every connection, so a collector that starts late or
// restarts knows whose pipe it reads.

import { closeSync, constants, fstatSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import {
  decodeFrame,
  ensureAppDir,
  FRAME_HEADER_SIZE,
  FrameEncoder,
  frameKind,
  frameSize,
  type GoodbyeFrame,
  type Hello,
  type LogkitError,
  NO_DROPS,
  nowNs,
  openPrivateFile,
  peekBatch,
  processWide,
  type RuntimeEnv,
  readSession,
  runtimePaths,
  type Transport,
  type TransportFactory,
  type TransportStats,
} from '@logkit/core/producer'
import { noteFileName, writeNote } from './abandoned-note.js'
import { fifoError, warn } from './errors.js'
import { type FrameLocation, FrameQueue, type QueueMark } from './frame-queue.js'
import { mkfifo } from './mkfifo.js'
import { pipeFileName } from './pipe-name.js'
import { type FifoTransportOptions, parseTransportOptions } from './transport-options.js'

export type { FifoTransportOptions } from './transport-options.js'

export interface FifoTransportStats extends TransportStats {
  /** A collector is reading the pipe. */
  readonly connected: boolean
  /** The pipe this transport writes (undefined before a collector was found). */
  readonly path: string | undefined
  /** Bytes of frames waiting to be written. */
  readonly bufferedBytes: number
  /** Frames write() accepted (the hello not counted). */
  readonly written: number
  /** Frames refused because the buffer was full: the logger counts and announces them. */
  readonly dropped: number
  /** Frames evicted by drop_oldest, and the never-written entries in them (the collector sees a seq gap). */
  readonly evicted: number
  readonly evictedEntries: number
  /** Writes that waited (policy block) for the pipe to take the full buffer. */
  readonly blocked: number
  /** A drop episode is under way (warned about once). */
  readonly dropping: boolean
  /** Connections made (the first one included). */
  readonly connections: number
  /** Bytes still buffered when close() gave up waiting for a collector: lost. */
  readonly abandonedBytes: number
  /** Entries in them: lost, warned about, and left in a note for the next collector. */
  readonly abandoned: number
  readonly lastError: Error | undefined
}

export interface FifoTransport extends Transport {
  readonly name: 'fifo'
  stats(): FifoTransportStats
}

/**
 * Pipe names taken in this thread, so two loggers of one source never share
 * a pipe. Each worker thread has its own set: its names carry its threadId
 * (see pipeFileName), so threads of one process never meet either. One set
 * for this module's copy in `/producer`'s bundle and the main entry's
 * (processWide): two would hand out the same name.
 */
const taken = processWide('fifo.taken', () => new Set<string>())

function reserveName(dirKey: string, source: string): string {
  for (let n = 1; ; n++) {
    const name = pipeFileName(source, process.pid, n, threadId)
    const key = `${dirKey}\0${name}`
    if (!taken.has(key)) {
      taken.add(key)
      return name
    }
  }
}

/** Codes already warned about in this thread, by either copy of this module. */
const warned = processWide('fifo.warned', () => new Set<string>())

function warnOnce(err: Error): void {
  const code = (err as { code?: string }).code ?? err.name
  if (warned.has(code)) return
  warned.add(code)
  process.emitWarning(err.message, { type: 'LogkitWarning', code })
}

/** Transports not yet closed: at process exit each writes what its pipe takes and says what it could not. */
const live = new Set<FifoTransportImpl>()
let exitHook = false

function onExit(): void {
  for (const transport of live) transport.exiting()
}

interface FlushWaiter {
  readonly mark: QueueMark
  readonly resolve: () => void
  readonly timer: NodeJS.Timeout
  /** close(): waits for a collector to come even when none runs now. */
  readonly untilCollector: boolean
}

/** Backoff while a collector is there but has not opened the pipe yet. */
const FIRST_RETRY_MS = 5
/** How often close() looks for a collector that is not there (yet). */
const CLOSE_RETRY_MS = 50
/** Buffered bytes past which a write goes to the pipe at once instead of on the next turn. */
const WRITE_AT_BYTES = 64 * 1024
/** How soon a full pipe is tried again. */
const FULL_PIPE_RETRY_MS = 1
/** Shortest and longest pause of a blocked write between looks at the pipe. */
const BLOCK_PAUSE_MIN_MS = 0.05
const BLOCK_PAUSE_MAX_MS = 1

const sleeper = new Int32Array(new SharedArrayBuffer(4))

class FifoTransportImpl implements FifoTransport {
  readonly name = 'fifo' as const
  readonly #app: string
  readonly #env: RuntimeEnv
  readonly #pipeName: string
  readonly #nameKey: string
  readonly #heartbeatMs: number
  readonly #retryMs: number
  readonly #flushTimeoutMs: number
  readonly #closeTimeoutMs: number
  readonly #block: boolean
  readonly #blockMs: number
  readonly #onError: (err: Error) => void
  readonly #queue: FrameQueue
  readonly #encoder = new FrameEncoder()
  #hello: Buffer | undefined
  /** Bytes of the hello written on this connection: it goes first, whole. */
  #helloAt = 0
  #helloInfo: Hello | undefined
  /** What the logger's goodbye said, for the note close() leaves when it gives up. */
  #goodbye: GoodbyeFrame | undefined
  /** The pipe's fd while a collector reads it; -1 otherwise. */
  #fd = -1
  #path: string | undefined
  #collectorPid = 0
  #connecting = false
  /** write() refuses frames; the connection goes on until close() is done with it. */
  #closing = false
  #closingDone: Promise<void> | undefined
  #closed = false
  #retryTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #writeTimer: NodeJS.Timeout | undefined
  #writeSoon: NodeJS.Immediate | undefined
  /** The last write found the pipe full: the next waits for the timer (or a full buffer). */
  #pipeFull = false
  #backoff = FIRST_RETRY_MS
  /** Where the last batch frame was copied to: a heartbeat reads its last seq from there. */
  #lastBatch: FrameLocation | undefined
  #waiters: FlushWaiter[] = []
  #accepted = 0
  #connections = 0
  #blocked = 0
  #dropping = false
  #abandonedBytes = 0
  #abandoned = 0
  #lastError: Error | undefined

  constructor(options: FifoTransportOptions) {
    const opts = parseTransportOptions(options)
    this.#app = opts.app
    this.#env = opts.env ?? process.env
    this.#heartbeatMs = opts.heartbeatMs
    this.#retryMs = opts.retryMs
    this.#flushTimeoutMs = opts.flushTimeoutMs
    this.#closeTimeoutMs = opts.closeTimeoutMs
    this.#block = opts.policy === 'block'
    this.#blockMs = opts.blockMs
    this.#onError = opts.onError ?? warnOnce
    this.#queue = new FrameQueue({
      capacityBytes: opts.bufferBytes,
      policy: opts.policy === 'drop_oldest' ? 'drop_oldest' : 'drop_newest',
    })
    // Throws LOGKIT_ERR_APP_NAME_INVALID for an app that cannot name a directory.
    this.#nameKey = runtimePaths(this.#app, this.#env).appDir
    this.#pipeName = reserveName(this.#nameKey, opts.source ?? opts.app)
    if (this.#heartbeatMs > 0) {
      this.#heartbeatTimer = setInterval(() => this.#heartbeat(), this.#heartbeatMs)
      this.#heartbeatTimer.unref()
    }
    live.add(this)
    if (!exitHook) {
      exitHook = true
      process.on('exit', onExit)
    }
    this.#connect()
  }

  write(frame: Uint8Array): boolean {
    if (this.#closing) return false
    const kind = frameKind(frame)
    if (kind === 'hello') {
      // Kept apart, never evicted: it opens every connection.
      this.#hello = Buffer.from(frame)
      this.#helloAt = 0
      this.#helloInfo = decodeHello(this.#hello)
      this.#soon()
      return true
    }
    if (kind === 'goodbye') this.#goodbye = decodeGoodbye(frame)
    const queue = this.#queue
    const n = frame.length
    if (this.#block && !queue.fits(n)) this.#waitForRoom(n)
    const evicted = queue.evictedFrames
    if (!queue.push(frame)) {
      this.#dropStarted()
      return false
    }
    if (queue.evictedFrames !== evicted) this.#dropStarted()
    if (kind === 'batch') this.#lastBatch = queue.lastPushed
    this.#accepted++
    this.#soon()
    return true
  }

  flush(): Promise<void> {
    return this.#drain(this.#flushTimeoutMs, false)
  }

  close(): Promise<void> {
    this.#closingDone ??= this.#close()
    return this.#closingDone
  }

  async #close(): Promise<void> {
    this.#closing = true
    clearInterval(this.#heartbeatTimer)
    await this.#drain(this.#closeTimeoutMs, true)
    this.#closed = true
    live.delete(this)
    clearTimeout(this.#retryTimer)
    this.#giveUp()
    taken.delete(`${this.#nameKey}\0${this.#pipeName}`)
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.resolve()
    }
  }

  /** Process exit: what the pipe takes now goes; the rest is given up, said and noted. */
  exiting(): void {
    if (this.#closed) return
    this.#closed = true
    this.#pipeFull = false
    this.#pump()
    this.#giveUp(true)
  }

  stats(): FifoTransportStats {
    return {
      connected: this.#fd >= 0,
      path: this.#path,
      bufferedBytes: this.#queue.pendingBytes,
      written: this.#accepted,
      dropped: this.#queue.droppedFrames,
      evicted: this.#queue.evictedFrames,
      evictedEntries: this.#queue.evictedEntries,
      blocked: this.#blocked,
      dropping: this.#dropping,
      connections: this.#connections,
      abandonedBytes: this.#abandonedBytes,
      abandoned: this.#abandoned,
      lastError: this.#lastError,
    }
  }

  /**
   * Counts what is still buffered as given up, detaches, and when entries (or
   * drops not yet announced) are among it, warns and leaves the note.
   */
  #giveUp(atExit = false): void {
    clearTimeout(this.#writeTimer)
    clearImmediate(this.#writeSoon)
    const unsent = this.#queue.unsent()
    this.#abandonedBytes = this.#queue.pendingBytes
    this.#abandoned = unsent.entries
    const connected = this.#fd >= 0
    this.#detach()
    const unannounced = unsent.goodbye && (this.#goodbye?.dropped ?? 0) > 0
    if (unsent.entries === 0 && !unannounced) return
    let noted = ''
    const hello = this.#helloInfo
    if (hello !== undefined) {
      try {
        const dir = ensureAppDir(this.#app, this.#env).appDir
        writeNote(join(dir, noteFileName(this.#pipeName)), {
          hello,
          lastSeq: this.#goodbye?.lastSeq ?? lastSeqAt(this.#lastBatch),
          // No goodbye: what the queue itself dropped or evicted (its buffer was full).
          drops: this.#goodbye ?? {
            ...NO_DROPS,
            dropped: this.#queue.droppedFrames + this.#queue.evictedEntries,
          },
          abandoned: unsent.entries,
        })
        noted = `; the next collector of app "${this.#app}" reports them as lost`
      } catch (err) {
        noted = `; no note for the next collector could be left (${(err as Error).message})`
      }
    }
    const why = atExit
      ? 'the process exited before close()'
      : connected
        ? `the collector did not take all of the buffer within closeTimeoutMs (${this.#closeTimeoutMs} ms)`
        : `no collector took the buffer within closeTimeoutMs (${this.#closeTimeoutMs} ms)`
    const message = `fifo producer ${this.#pipeName}: ${unsent.entries} entries (${this.#abandonedBytes} bytes) were not delivered: ${why}${noted}. Keep a collector running for app "${this.#app}" (logkit compose), or raise closeTimeoutMs to wait longer for one`
    if (atExit) {
      // Warnings raised during 'exit' are never printed: say it directly.
      try {
        writeSync(2, `(node:${process.pid}) [LOGKIT_W_FIFO_ABANDONED] LogkitWarning: ${message}\n`)
      } catch {}
    } else warn('LOGKIT_W_FIFO_ABANDONED', message)
  }

  /** A frame was refused or evicted: the first of an episode is said once. */
  #dropStarted(): void {
    if (this.#dropping) return
    this.#dropping = true
    const bytes = this.#queue.capacityBytes
    const why =
      this.#fd < 0
        ? `no collector reads its pipe and its buffer (bufferBytes ${bytes}) is full; start the collector of app "${this.#app}" (logkit compose)`
        : this.#block
          ? `the collector did not take its full buffer (bufferBytes ${bytes}) within blockMs (${this.#blockMs} ms); it may be stopped or too slow`
          : `its buffer (bufferBytes ${bytes}) is full and the policy is to drop`
    warn(
      'LOGKIT_W_TRANSPORT_DROPPING',
      `fifo producer ${this.#pipeName} is dropping entries: ${why}. Every drop is counted and reported to the collector; raise bufferBytes or blockMs, or log less`,
    )
  }

  /**
   * policy block, buffer full: writes to the pipe synchronously until `n`
   * bytes fit, waiting at most blockMs in all. Only while a collector has
   * the pipe open, and not again in a drop episode that began with a wait
   * running out.
   */
  #waitForRoom(n: number): void {
    if (this.#fd < 0 || this.#dropping || n > this.#queue.capacityBytes) return
    this.#blocked++
    const deadline = performance.now() + this.#blockMs
    let pause = BLOCK_PAUSE_MIN_MS
    for (;;) {
      this.#pipeFull = false
      this.#pump()
      if (this.#queue.fits(n) || this.#fd < 0) return
      const left = deadline - performance.now()
      if (left <= 0) return
      Atomics.wait(sleeper, 0, 0, Math.min(pause, left))
      pause = Math.min(pause * 2, BLOCK_PAUSE_MAX_MS)
    }
  }

  /** Waits until what was written before the call is in the pipe, while a collector is there (or may come) to take it. */
  #drain(timeoutMs: number, untilCollector: boolean): Promise<void> {
    const mark = this.#queue.mark()
    if (this.#queue.isPast(mark) && this.#helloDone()) return Promise.resolve()
    if (this.#fd < 0) {
      if (!untilCollector && !this.#collectorExists()) return Promise.resolve()
      // close() with nothing worth a wait: no entries, no drops to announce.
      if (untilCollector) {
        const unsent = this.#queue.unsent()
        if (unsent.entries === 0 && !(unsent.goodbye && (this.#goodbye?.dropped ?? 0) > 0))
          return Promise.resolve()
      }
    }
    return new Promise((resolve) => {
      // A ref'd timer: an explicit flush keeps the process alive until it is done or gives up.
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        resolve()
      }, timeoutMs)
      const waiter: FlushWaiter = { mark, resolve, timer, untilCollector }
      this.#waiters.push(waiter)
      if (this.#fd < 0) this.#connect()
      else this.#pump()
    })
  }

  #helloDone(): boolean {
    return this.#hello === undefined || this.#helloAt >= this.#hello.length
  }

  /** Settles the waiters whose data is in the pipe; with `noCollector`, also those that only wait while one runs. */
  #settleWaiters(noCollector = false): void {
    if (this.#waiters.length === 0) return
    const done = this.#helloDone()
    this.#waiters = this.#waiters.filter((waiter) => {
      const settled = (done && this.#queue.isPast(waiter.mark)) || (noCollector && !waiter.untilCollector)
      if (!settled) return true
      clearTimeout(waiter.timer)
      waiter.resolve()
      return false
    })
  }

  #collectorExists(): boolean {
    try {
      return readSession(this.#app, this.#env)?.transports['fifo'] !== undefined
    } catch {
      return false
    }
  }

  #fail(err: Error): void {
    this.#lastError = err
    try {
      this.#onError(err)
    } catch {}
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return
    clearTimeout(this.#retryTimer)
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined
        this.#connect()
      },
      this.#closing ? Math.min(delayMs, CLOSE_RETRY_MS) : delayMs,
    )
    this.#retryTimer.unref()
  }

  /** Finds the collector's session and opens the pipe; schedules itself again until it can. */
  #connect(): void {
    if (this.#closed || this.#connecting || this.#fd >= 0) return
    let dir: unknown
    let pid = 0
    try {
      const info = readSession(this.#app, this.#env)
      dir = info?.transports['fifo']?.['dir']
      pid = info?.pid ?? 0
    } catch (err) {
      this.#fail(err as Error)
    }
    if (typeof dir !== 'string') {
      // No collector listens on fifo: a flush has nothing to wait for; close() waits on.
      this.#settleWaiters(true)
      this.#schedule(this.#retryMs)
      return
    }
    const path = join(dir, this.#pipeName)
    this.#path = path
    let fd: number
    try {
      fd = openPrivateFile(path, constants.O_WRONLY | constants.O_NONBLOCK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENXIO') {
        // The pipe is there but no collector reads it yet: it finds it by watching the directory.
        this.#schedule(this.#backoff)
        this.#backoff = Math.min(this.#backoff * 2, this.#retryMs)
      } else if (code === 'ENOENT') {
        this.#create(path)
      } else {
        this.#fail(err as Error)
        this.#schedule(this.#retryMs)
      }
      return
    }
    if (!fstatSync(fd).isFIFO()) {
      closeSync(fd)
      this.#fail(
        fifoError(
          'LOGKIT_ERR_FIFO_NOT_A_PIPE',
          `${path} is not a named pipe: remove it so the producer can create its pipe there`,
          { details: { path } },
        ),
      )
      this.#schedule(this.#retryMs)
      return
    }
    this.#attach(fd, pid)
  }

  #create(path: string): void {
    this.#connecting = true
    mkfifo(path).then(
      () => {
        this.#connecting = false
        this.#connect()
      },
      (err: LogkitError) => {
        this.#connecting = false
        this.#fail(err)
        this.#schedule(this.#retryMs)
      },
    )
  }

  #attach(fd: number, collectorPid: number): void {
    this.#fd = fd
    this.#collectorPid = collectorPid
    this.#connections++
    this.#backoff = FIRST_RETRY_MS
    this.#pipeFull = false
    this.#queue.rewind()
    this.#helloAt = 0
    // A heartbeat right away tells the collector what to expect of this producer.
    if (this.#heartbeatMs > 0 && !this.#closing) this.#queueHeartbeat()
    this.#pump()
  }

  #detach(): void {
    const fd = this.#fd
    this.#fd = -1
    clearTimeout(this.#writeTimer)
    this.#writeTimer = undefined
    if (fd >= 0) {
      try {
        closeSync(fd)
      } catch {}
    }
  }

  /** The collector went away (EPIPE) or another one took over: reconnect, and resend from the replay point. */
  #broken(err?: Error): void {
    if (this.#fd < 0) return
    this.#detach()
    this.#queue.failed()
    if (err !== undefined && (err as NodeJS.ErrnoException).code !== 'EPIPE') this.#fail(err)
    this.#schedule(FIRST_RETRY_MS)
  }

  /** Asks for the buffer to be written: on the next turn of the event loop, or now once a pipe-full waits. */
  #soon(): void {
    if (this.#fd < 0 || this.#pipeFull) return
    if (this.#queue.pendingBytes >= WRITE_AT_BYTES) {
      this.#pump()
      return
    }
    this.#writeSoon ??= setImmediate(() => {
      this.#writeSoon = undefined
      this.#pump()
    })
  }

  /**
   * Writes what the pipe takes now, without waiting: the hello first, whole,
   * then the queue oldest first. Stops at a full pipe (and tries again on a
   * timer) or a broken one (and reconnects).
   */
  #pump(): void {
    const fd = this.#fd
    if (fd < 0) return
    const queue = this.#queue
    try {
      const hello = this.#hello
      while (hello !== undefined && this.#helloAt < hello.length) {
        this.#helloAt += writeSync(fd, hello, this.#helloAt, hello.length - this.#helloAt)
      }
      for (let data = queue.take(); data !== undefined; data = queue.take()) {
        const n = writeSync(fd, data)
        queue.written(n)
        if (n < data.length) {
          this.#full()
          return
        }
      }
    } catch (err) {
      queue.failed()
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') this.#full()
      else this.#broken(err as Error)
      return
    }
    this.#pipeFull = false
    if (this.#dropping && queue.pendingBytes * 2 <= queue.capacityBytes) this.#dropping = false
    this.#settleWaiters()
  }

  /** The pipe is full: try again soon (a ref'd timer: what waits to be written keeps the process alive). */
  #full(): void {
    this.#pipeFull = true
    this.#settleWaiters()
    if (this.#dropping && this.#queue.pendingBytes * 2 <= this.#queue.capacityBytes) this.#dropping = false
    if (this.#writeTimer !== undefined || this.#closed) return
    this.#writeTimer = setTimeout(() => {
      this.#writeTimer = undefined
      this.#pipeFull = false
      this.#pump()
    }, FULL_PIPE_RETRY_MS)
  }

  #heartbeat(): void {
    if (this.#closing) return
    if (this.#fd < 0) {
      this.#connect()
      return
    }
    // A collector that died and was replaced may have reopened this very pipe:
    // writes would go on without the new one ever seeing a hello. Reconnect.
    let pid = 0
    try {
      pid = readSession(this.#app, this.#env)?.pid ?? 0
    } catch {}
    if (pid !== this.#collectorPid) {
      this.#broken()
      return
    }
    this.#queueHeartbeat()
    this.#soon()
  }

  #queueHeartbeat(): void {
    const now = nowNs()
    const frame = this.#encoder.heartbeat({
      now,
      next: now + BigInt(this.#heartbeatMs) * 1_000_000n,
      lastSeq: lastSeqAt(this.#lastBatch),
    })
    this.#queue.push(frame, true)
  }
}

function lastSeqAt(location: FrameLocation | undefined): number {
  return location === undefined ? 0 : peekBatch(location.buf, location.at).lastSeq
}

function decodeHello(frame: Buffer): Hello | undefined {
  try {
    const f = decodeFrame(frame, FRAME_HEADER_SIZE, frameSize(frame, 0))
    return f.type === 'hello' ? f : undefined
  } catch {
    return undefined
  }
}

function decodeGoodbye(frame: Uint8Array): GoodbyeFrame | undefined {
  try {
    const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.length)
    const f = decodeFrame(buf, FRAME_HEADER_SIZE, frameSize(buf, 0))
    return f.type === 'goodbye' ? f : undefined
  } catch {
    return undefined
  }
}

/**
 * A transport that writes a logger's frames into a named pipe the app's
 * collector (`use: fifo`) finds by watching its session directory. Buffers
 * (bounded) while no collector reads and reconnects by itself; a full buffer
 * waits (policy block, at most blockMs) only while a collector reads.
 * Without `app`, a transport for the logger to open with its own app and
 * source.
 *
 * @example
 * const log = createLogger({ app: 'shop', source: 'checkout', transport: fifo() })
 * log.info({ orderId: 42 }, 'order placed')
 * await log.close()
 */
export function fifo(options: FifoTransportOptions): FifoTransport
export function fifo(options?: FifoFactoryOptions): TransportFactory<FifoTransport>
export function fifo(
  options: FifoFactoryOptions & { app?: string } = {},
): FifoTransport | TransportFactory<FifoTransport> {
  const { app } = options
  if (app !== undefined) return new FifoTransportImpl({ ...options, app })
  return {
    name: 'fifo',
    open: (identity) =>
      new FifoTransportImpl({ ...options, app: identity.app, source: options.source ?? identity.source }),
  }
}

/** fifo()'s options when the logger gives the app (and, unless set here, the source). */
export type FifoFactoryOptions = Omit<FifoTransportOptions, 'app'>
