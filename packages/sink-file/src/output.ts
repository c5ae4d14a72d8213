// One open log file: an fd we opened ourselves (see safe-open.ts). This class
// counts bytes in and out so that a batch's promise resolves exactly when its
// last byte has been handed to the OS.
//
//   append(bytes) ──▶ write(2), now ──────────────────────────────▶ batches whose
//                 └─▶ sonic-boom ──fs.write──▶ 'write'(n) ──▶ end ≤ written resolve
//
// A batch is written at once, synchronously, while such writes are quick: a
// write(2) of lines into the page cache costs less than handing it to the
// thread pool and back, and its lines reach the file without waiting for a
// thread to be scheduled. A write that takes SLOW_WRITE_MS or more (a disk or
// file system that blocks) moves the file to sonic-boom's thread-pool writes
// for ASYNC_HOLD_MS, so a slow disk holds up the collector's other sinks and
// sources for one write at most; then a direct write is tried again, once
// nothing is in flight.
//
// Bytes appended while a thread-pool write is in flight are held here, not
// handed to sonic-boom, which would copy them into one buffer (Buffer.concat)
// for its next write: the lines of successive batches are adjacent in the
// line buffer they were rendered into, so the held bytes stay one view of it,
// handed over whole when the write in flight is done.
//
// A batch arrives as one UTF-8 buffer (sonic-boom's buffer mode): a string
// would be encoded once for the write and again after it (sonic-boom measures
// what was written by re-encoding the string), which costs more than
// rendering.
//
// A failed write rejects every batch not yet written in full and cuts the file
// back to the end of the last whole batch, so the file never holds a partial
// line and a retried batch is never written twice.

import { fstat, fstatSync, fsync, ftruncateSync, writeSync } from 'node:fs'
import sonicBoom from 'sonic-boom'
import { fileSinkError } from './errors.js'
import type { OpenedFile } from './safe-open.js'

// sonic-boom is CommonJS: its module object is the class, which also carries
// itself as `.SonicBoom` — the name its type declarations describe.
const { SonicBoom } = sonicBoom
type Writer = InstanceType<typeof SonicBoom>

const MAX_WRITE = 1024 * 1024
/** A direct write taking this long moves the file to thread-pool writes… */
const SLOW_WRITE_MS = 5
/** …for this long. */
const ASYNC_HOLD_MS = 1000

export interface OutputOptions {
  /** Direct (synchronous) writes while they are quick; false: always through the thread pool. */
  readonly direct?: boolean
  /** A direct write at least this long moves the file to thread-pool writes for a while. */
  readonly slowWriteMs?: number
}

/** What a new Output gets when it is not told otherwise (tests move every file to thread-pool writes here). */
export const outputDefaults: { direct: boolean; slowWriteMs: number } = {
  direct: true,
  slowWriteMs: SLOW_WRITE_MS,
}

const nowMs = (): number => performance.now()

interface Waiter {
  readonly target: number
  readonly resolve: () => void
  readonly reject: (err: Error) => void
}

export class Output {
  readonly path: string
  readonly fd: number
  readonly dev: number
  readonly ino: number
  readonly birthtimeMs: number
  readonly #stream: Writer
  readonly #closed: Promise<void>
  /** File size before our first byte; moves when the file is truncated under us. */
  #base: number
  #submitted = 0
  /** Bytes written directly or handed to sonic-boom (submitted less what is held). */
  #handed = 0
  #written = 0
  /** Bytes appended while a write was in flight, not handed over yet. */
  #held: Buffer | undefined
  /** End of the last batch known to be written in full. */
  #committed = 0
  #waiters: Waiter[] = []
  #error: Error | undefined
  #closing: Promise<void> | undefined
  #syncing: Promise<void> | undefined
  #destroyed = false
  #markClosed: () => void = () => {}
  readonly #direct: boolean
  readonly #slowWriteMs: number
  /** Until when (performance.now()) writes go through the thread pool after a slow one. */
  #asyncUntil = 0

  constructor(path: string, file: OpenedFile, options: OutputOptions = {}) {
    this.#direct = options.direct ?? outputDefaults.direct
    this.#slowWriteMs = options.slowWriteMs ?? outputDefaults.slowWriteMs
    this.path = path
    this.fd = file.fd
    this.dev = file.dev
    this.ino = file.ino
    this.birthtimeMs = file.birthtimeMs
    this.#base = file.size
    // minLength 0: a chunk goes to the OS as soon as no write is in flight;
    // what arrives meanwhile collects in sonic-boom's buffer and goes next, in one write.
    // maxWrite: chunks appended while a write is in flight go out together, up to 1 MiB.
    this.#stream = new SonicBoom({
      fd: file.fd,
      sync: false,
      minLength: 0,
      contentMode: 'buffer',
      maxWrite: MAX_WRITE,
    })
    this.#closed = new Promise((resolve) => {
      this.#markClosed = () => {
        this.#destroyed = true
        resolve()
      }
    })
    this.#stream.once('close', this.#markClosed)
    this.#stream.on('write', (n: number) => this.#onWrite(n))
    this.#stream.on('error', (err: Error) => this.#onError(err))
  }

  /** True once close() was called, or the output failed. */
  get closing(): boolean {
    return this.#closing !== undefined || this.#error !== undefined
  }

  /** Bytes in the file once everything handed over is written. */
  get size(): number {
    return this.#base + this.#submitted
  }

  /** Set once a write failed: this output takes nothing more and is being closed. */
  get failed(): Error | undefined {
    return this.#error
  }

  /**
   * Hands a batch's `bytes` (whole lines, UTF-8) to the writer; resolves when
   * the OS has them. The end of each is where a failed write cuts the file back to.
   */
  append(bytes: Buffer): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error)
    this.#submitted += bytes.length
    const done = this.#until(this.#submitted)
    if (this.#written !== this.#handed) this.#hold(bytes)
    else if (!this.#writeNow(bytes)) this.#hand(bytes)
    return done
  }

  /** Writes bytes now, when direct writes are on and nothing is in flight; false to hand them over instead. */
  #writeNow(bytes: Buffer): boolean {
    if (!this.#direct || this.#closing !== undefined) return false
    const start = nowMs()
    if (start < this.#asyncUntil) return false
    this.#handed += bytes.length
    let n = 0
    try {
      while (n < bytes.length) n += writeSync(this.fd, bytes, n, bytes.length - n)
    } catch (err) {
      // What a partial write put in the file is cut off with the rest of the batch.
      this.#onWrite(n)
      this.#onError(err as Error)
      return true
    }
    const end = nowMs()
    if (end - start >= this.#slowWriteMs) this.#asyncUntil = end + ASYNC_HOLD_MS
    this.#onWrite(n)
    return true
  }

  #hand(bytes: Buffer): void {
    this.#handed += bytes.length
    // Its type declarations know only strings; in buffer mode it takes Buffers.
    this.#stream.write(bytes as unknown as string)
  }

  /** Keeps bytes for after the write in flight: one view with the held ones when they follow them in memory. */
  #hold(bytes: Buffer): void {
    const held = this.#held
    if (held === undefined) this.#held = bytes
    else if (held.buffer === bytes.buffer && held.byteOffset + held.length === bytes.byteOffset)
      this.#held = Buffer.from(held.buffer, held.byteOffset, held.length + bytes.length)
    else {
      // Not adjacent: sonic-boom queues the held bytes (and copies what queues behind them).
      this.#hand(held)
      this.#held = bytes
    }
  }

  /** Resolves when everything appended so far has been handed to the OS. */
  drained(): Promise<void> {
    return this.#until(this.#submitted)
  }

  /** Drained, then fsync'd; an output being closed is fsync'd by its close. */
  async sync(): Promise<void> {
    await this.drained()
    if (this.#closing !== undefined) return this.#closing
    const syncing = new Promise<void>((resolve, reject) =>
      fsync(this.fd, (err) => (err ? reject(err) : resolve())),
    )
    this.#syncing = syncing.catch(() => {})
    return syncing
  }

  /**
   * True when the file is now shorter than what we wrote to it: an external
   * copytruncate. The accounting restarts from the file's real size; O_APPEND
   * already puts our next bytes at its new end.
   */
  truncatedUnderUs(): boolean {
    const actual = fstatSync(this.fd).size
    if (actual >= this.#base + this.#written) return false
    this.#base = actual - this.#written
    return true
  }

  /** Writes what is buffered, fsyncs and closes the fd (sonic-boom fsyncs before it closes). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.drained().catch(() => {})
      await this.#syncing
      // A failed output is destroyed by #onError once its partial batch is cut off.
      if (this.#error === undefined && !this.#destroyed) this.#stream.end()
      await this.#closed
    })()
    return this.#closing
  }

  #until(target: number): Promise<void> {
    if (this.#written >= target) return Promise.resolve()
    if (this.#error !== undefined) return Promise.reject(this.#error)
    return new Promise((resolve, reject) => this.#waiters.push({ target, resolve, reject }))
  }

  #onWrite(n: number): void {
    this.#written += n
    let i = 0
    while (i < this.#waiters.length && (this.#waiters[i] as Waiter).target <= this.#written) {
      const w = this.#waiters[i++] as Waiter
      this.#committed = w.target
      w.resolve()
    }
    if (i > 0) this.#waiters.splice(0, i)
    // Everything handed over is written: the held bytes go next, in one write.
    const held = this.#held
    if (held !== undefined && this.#written === this.#handed && this.#error === undefined) {
      this.#held = undefined
      this.#hand(held)
    }
  }

  #onError(cause: Error): void {
    // sonic-boom reports a failed close(2) as an error and never says 'close'.
    if ((this.#stream as unknown as { destroyed: boolean }).destroyed) this.#markClosed()
    if (this.#error !== undefined) return
    const code = (cause as NodeJS.ErrnoException).code
    this.#error = fileSinkError(
      'LOGKIT_ERR_FILE_WRITE',
      `writing log file ${this.path} failed (${code ?? cause.message}): none of this batch stays in the file; free disk space or fix the file system`,
      { cause, details: { path: this.path, errno: code } },
    )
    // Cut a partly written batch off, so that its retry does not follow half of it.
    const whole = this.#base + this.#committed
    fstat(this.fd, (err, st) => {
      if (err === null && st.size > whole && whole >= 0) {
        try {
          ftruncateSync(this.fd, whole)
        } catch {
          // The retried batch then follows a partial line; nothing more can be done here.
        }
      }
      this.#stream.destroy()
    })
    this.#held = undefined
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.reject(this.#error)
  }
}
