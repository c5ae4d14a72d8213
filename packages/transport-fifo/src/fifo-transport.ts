// The producer side: a Transport for createLogger that writes frames into a
// named pipe of its own, SOURCE.PID.fifo in the app's directory.
//
//   write(frame) ─▶ FrameQueue (bounded) ─▶ net.Socket on the pipe (O_WRONLY|O_NONBLOCK) ─▶ collector
//                        ▲                          │ EPIPE: collector gone
//                        └─ rewind, hello again ◀───┘ reconnect when a collector (re)appears
//
// Nothing here ever blocks the event loop: the pipe is opened non-blocking
// (ENXIO means no reader yet: keep buffering and retry on an unref'd timer),
// mkfifo runs as an asynchronous child process, and the socket waits for a
// full pipe inside libuv. The hello the logger sends first is kept and sent
// again at the start of every connection, so a collector that starts late or
// restarts knows whose pipe it reads.

import { closeSync, constants, fstatSync } from 'node:fs'
import { Socket } from 'node:net'
import { join } from 'node:path'
import { PLUGIN_API_VERSION, validateOptions } from '@logkit/core/options'
import {
  FrameEncoder,
  type LogkitError,
  nowNs,
  openPrivateFile,
  type RuntimeEnv,
  readSession,
  runtimePaths,
  type Transport,
  type TransportStats,
} from '@logkit/core/producer'
import { fifoError } from './errors.js'
import { frameKind, peekBatch } from './frame-peek.js'
import { type FrameLocation, FrameQueue, type QueueMark } from './frame-queue.js'
import { mkfifo } from './mkfifo.js'
import { type FifoTransportOptions, fifoTransportOptions } from './options.js'
import { pipeFileName } from './pipe-name.js'

export type { FifoTransportOptions } from './options.js'

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
  /** Connections made (the first one included). */
  readonly connections: number
  /** Bytes still buffered when close() gave up waiting for a collector: lost. */
  readonly abandonedBytes: number
  readonly lastError: Error | undefined
}

export interface FifoTransport extends Transport {
  readonly name: 'fifo'
  stats(): FifoTransportStats
}

/** Pipe names taken in this process, so two loggers of one source never share a pipe. */
const taken = new Set<string>()

function reserveName(dirKey: string, source: string): string {
  for (let n = 1; ; n++) {
    const name = pipeFileName(source, process.pid, n)
    const key = `${dirKey}\0${name}`
    if (!taken.has(key)) {
      taken.add(key)
      return name
    }
  }
}

const warned = new Set<string>()

function warnOnce(err: Error): void {
  const code = (err as { code?: string }).code ?? err.name
  if (warned.has(code)) return
  warned.add(code)
  process.emitWarning(err.message, { type: 'LogkitWarning', code })
}

interface FlushWaiter {
  readonly mark: QueueMark
  readonly resolve: () => void
  readonly timer: NodeJS.Timeout
}

/** Backoff while a collector is there but has not opened the pipe yet. */
const FIRST_RETRY_MS = 5

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
  readonly #onError: (err: Error) => void
  readonly #queue: FrameQueue
  readonly #encoder = new FrameEncoder()
  #hello: Buffer | undefined
  #helloSent = false
  #socket: Socket | undefined
  #path: string | undefined
  #collectorPid = 0
  #connecting = false
  /** write() refuses frames; the connection goes on until close() is done with it. */
  #closing = false
  #closingDone: Promise<void> | undefined
  #closed = false
  #retryTimer: NodeJS.Timeout | undefined
  #heartbeatTimer: NodeJS.Timeout | undefined
  #backoff = FIRST_RETRY_MS
  #inflight = false
  /** Where the last batch frame was copied to: a heartbeat reads its last seq from there. */
  #lastBatch: FrameLocation | undefined
  #waiters: FlushWaiter[] = []
  #accepted = 0
  #connections = 0
  #abandoned = 0
  #lastError: Error | undefined

  constructor(options: FifoTransportOptions) {
    const opts = validateOptions(
      { kind: 'transport', name: 'fifo', apiVersion: PLUGIN_API_VERSION, options: fifoTransportOptions },
      options,
    )
    this.#app = opts.app
    this.#env = opts.env ?? process.env
    this.#heartbeatMs = opts.heartbeatMs
    this.#retryMs = opts.retryMs
    this.#flushTimeoutMs = opts.flushTimeoutMs
    this.#closeTimeoutMs = opts.closeTimeoutMs
    this.#onError = opts.onError ?? warnOnce
    this.#queue = new FrameQueue({ capacityBytes: opts.bufferBytes, policy: opts.policy })
    // Throws LOGKIT_ERR_APP_NAME_INVALID for an app that cannot name a directory.
    this.#nameKey = runtimePaths(this.#app, this.#env).appDir
    this.#pipeName = reserveName(this.#nameKey, opts.source ?? opts.app)
    if (this.#heartbeatMs > 0) {
      this.#heartbeatTimer = setInterval(() => this.#heartbeat(), this.#heartbeatMs)
      this.#heartbeatTimer.unref()
    }
    this.#connect()
  }

  write(frame: Uint8Array): boolean {
    if (this.#closing) return false
    const kind = frameKind(frame)
    if (kind === 'hello') {
      // Kept apart, never evicted: it opens every connection.
      this.#hello = Buffer.from(frame)
      this.#helloSent = false
      this.#pump()
      return true
    }
    if (!this.#queue.push(frame)) return false
    if (kind === 'batch') this.#lastBatch = this.#queue.lastPushed
    this.#accepted++
    this.#pump()
    return true
  }

  flush(): Promise<void> {
    return this.#drain(this.#flushTimeoutMs)
  }

  close(): Promise<void> {
    this.#closingDone ??= this.#close()
    return this.#closingDone
  }

  async #close(): Promise<void> {
    this.#closing = true
    clearInterval(this.#heartbeatTimer)
    await this.#drain(this.#closeTimeoutMs)
    this.#closed = true
    clearTimeout(this.#retryTimer)
    this.#abandoned = this.#queue.pendingBytes
    const socket = this.#socket
    this.#socket = undefined
    // Written bytes are in the pipe already; destroy only drops what libuv still holds.
    socket?.destroy()
    taken.delete(`${this.#nameKey}\0${this.#pipeName}`)
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.resolve()
    }
  }

  stats(): FifoTransportStats {
    return {
      connected: this.#socket !== undefined,
      path: this.#path,
      bufferedBytes: this.#queue.pendingBytes,
      written: this.#accepted,
      dropped: this.#queue.droppedFrames,
      evicted: this.#queue.evictedFrames,
      evictedEntries: this.#queue.evictedEntries,
      connections: this.#connections,
      abandonedBytes: this.#abandoned,
      lastError: this.#lastError,
    }
  }

  /** Waits until what was written before the call is in the pipe, while a collector is there to take it. */
  #drain(timeoutMs: number): Promise<void> {
    const mark = this.#queue.mark()
    if (this.#queue.isPast(mark) && (this.#hello === undefined || this.#helloSent)) return Promise.resolve()
    if (this.#socket === undefined && !this.#collectorExists()) return Promise.resolve()
    return new Promise((resolve) => {
      // A ref'd timer: an explicit flush keeps the process alive until it is done or gives up.
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        resolve()
      }, timeoutMs)
      const waiter: FlushWaiter = { mark, resolve, timer }
      this.#waiters.push(waiter)
      if (this.#socket === undefined) this.#connect()
    })
  }

  #settleWaiters(all = false): void {
    if (this.#waiters.length === 0) return
    const done = this.#helloSent || this.#hello === undefined
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!all && !(done && this.#queue.isPast(waiter.mark))) return true
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
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#connect()
    }, delayMs)
    this.#retryTimer.unref()
  }

  /** Finds the collector's session and opens the pipe; schedules itself again until it can. */
  #connect(): void {
    if (this.#closed || this.#connecting || this.#socket !== undefined) return
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
      // No collector listens on fifo: nothing to wait for in flush().
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
    const socket = new Socket({ fd, readable: false, writable: true })
    // The pipe never keeps the process alive by itself; a pending write does (libuv holds the request).
    socket.unref()
    socket.on('error', (err) => this.#broken(socket, err))
    this.#socket = socket
    this.#collectorPid = collectorPid
    this.#connections++
    this.#backoff = FIRST_RETRY_MS
    this.#queue.rewind()
    this.#helloSent = false
    // A heartbeat right away tells the collector what to expect of this producer.
    if (this.#heartbeatMs > 0 && !this.#closing) this.#queueHeartbeat()
    this.#pump()
  }

  /** The collector went away (EPIPE) or another one took over: reconnect, and resend from the replay point. */
  #broken(socket: Socket, err?: Error): void {
    if (socket !== this.#socket) return
    this.#socket = undefined
    this.#inflight = false
    this.#queue.failed()
    socket.destroy()
    if (err !== undefined && (err as NodeJS.ErrnoException).code !== 'EPIPE') this.#fail(err)
    this.#schedule(FIRST_RETRY_MS)
  }

  #pump(): void {
    const socket = this.#socket
    if (socket === undefined || this.#inflight) return
    const hello = !this.#helloSent && this.#hello !== undefined
    const data = hello ? this.#hello : this.#queue.take()
    if (data === undefined) {
      this.#settleWaiters()
      return
    }
    // One write in flight at a time, the hello alone first: order is the protocol.
    this.#inflight = true
    socket.write(data, (err) => {
      if (socket !== this.#socket) return
      this.#inflight = false
      if (err) {
        this.#broken(socket, err)
        return
      }
      if (hello) this.#helloSent = true
      else this.#queue.written()
      this.#settleWaiters()
      this.#pump()
    })
  }

  #heartbeat(): void {
    if (this.#closing) return
    const socket = this.#socket
    if (socket === undefined) {
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
      this.#broken(socket)
      return
    }
    this.#queueHeartbeat()
    this.#pump()
  }

  #queueHeartbeat(): void {
    const last = this.#lastBatch
    const now = nowNs()
    const frame = this.#encoder.heartbeat({
      now,
      next: now + BigInt(this.#heartbeatMs) * 1_000_000n,
      lastSeq: last === undefined ? 0 : peekBatch(last.buf, last.at).lastSeq,
    })
    this.#queue.push(frame, true)
  }
}

/**
 * A transport that writes a logger's frames into a named pipe the app's
 * collector (`use: fifo`) finds by watching its session directory. Buffers
 * (bounded) while no collector reads, reconnects by itself, never blocks.
 *
 * @example
 * const log = createLogger({ app: 'shop', source: 'checkout', transport: fifo({ app: 'shop', source: 'checkout' }) })
 * log.info({ orderId: 42 }, 'order placed')
 * await log.close()
 */
export function fifo(options: FifoTransportOptions): FifoTransport {
  return new FifoTransportImpl(options)
}
