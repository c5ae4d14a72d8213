// The collector side of the fifo transport (`use: fifo`):
//
//   acquireSession(app) ── setTransport('fifo', { dir })      producers find the dir here
//   app dir ── fs.watch + rescan every scanMs ──▶ PipeReader per SOURCE.PID.fifo
//   PipeReader ── an EntryBatch per read ──▶ subscriber   (sockets paused while demand is)
//   acks ──▶ checkpoint per pipe (last seq delivered), for the next collector;
//            a batch's chunk (index, buffer) back to the pool once acknowledged
//   every scanMs: producers gone → drain, producer_exited, remove the pipe;
//                 late heartbeats → heartbeat_missed (then _recovered);
//                 a producer's note (SOURCE.PID.fifo.lost: its close() gave up)
//                 → what never came counted as seq_gap / dropped, once
//   abort: drain every pipe, remove the pipes, complete; the session is
//          released once every entry emitted has been acknowledged
//
// One fifo source per app per process: two would read the same pipes.

import { type FSWatcher, lstatSync, readdirSync, watch } from 'node:fs'
import { join } from 'node:path'
import {
  acquireSession,
  type Drops,
  type EntryBatch,
  isLogkitError,
  type LogEntry,
  LogkitError,
  PLUGIN_API_VERSION,
  processAlive,
  type RuntimeEnv,
  runtimePaths,
  type SessionHandle,
  type SourceContext,
  validateOptions,
} from '@logkit/core'
import { Observable, type Subscriber } from 'rxjs'
import { noteFileName, pipeOfNote, readNote } from './abandoned-note.js'
import { type CheckpointFile, readCheckpoint, removeFile } from './checkpoint.js'
import { ChunkPool, type PipeChunk } from './chunk-pool.js'
import { fifoError } from './errors.js'
import { type FifoSourceOptions, fifoSourceOptions } from './options.js'
import { checkpointFileName, parsePipeName, pipeOfCheckpoint } from './pipe-name.js'
import { PipeReader, type PipeReaderContext } from './pipe-reader.js'

export type { FifoSourceOptions } from './options.js'

/** App directories a fifo source of this process reads. */
const reading = new Set<string>()

/** How long a session waits for the acknowledgements of a source that ended without a pipeline's close. */
const RELEASE_FALLBACK_MS = 10_000

type ParsedOptions = ReturnType<typeof fifoSourceOptions.parse>

function claim(app: string, env: RuntimeEnv): SessionHandle {
  const dir = runtimePaths(app, env).appDir
  if (reading.has(dir)) {
    throw fifoError(
      'LOGKIT_ERR_FIFO_SOURCE_BUSY',
      `a fifo source of this process already reads the pipes of app "${app}": use one fifo source per app`,
      { details: { app, dir } },
    )
  }
  // Throws LOGKIT_ERR_SESSION_LOCKED, naming the pid, when another collector runs for this app.
  const handle = acquireSession(app, env)
  reading.add(dir)
  try {
    handle.session.setTransport('fifo', { dir: handle.session.paths.appDir })
  } catch (err) {
    reading.delete(dir)
    handle.release()
    throw err
  }
  return handle
}

/**
 * The fifo source: entries from every producer pipe of `app`, as EntryBatch
 * values (one per read of a pipe; entries that do not say who logged them
 * come decoded, as LogEntry values). Takes the app's session at once (throws
 * LOGKIT_ERR_SESSION_LOCKED when another collector holds it); starts reading
 * on subscription.
 */
export function createFifoSource(
  options: FifoSourceOptions,
  context: SourceContext,
): Observable<LogEntry | EntryBatch> {
  const opts = validateOptions(
    { kind: 'source', name: 'fifo', apiVersion: PLUGIN_API_VERSION, options: fifoSourceOptions },
    options,
  )
  const app = opts.app ?? context.app
  if (app === '') {
    throw new LogkitError(
      'LOGKIT_ERR_OPTIONS_INVALID',
      'source "fifo": option "app": expected the app to collect for, found none; set `app` in the manifest or the source options',
      { details: { name: 'fifo', kind: 'source', issues: [{ path: ['app'], message: 'required' }] } },
    )
  }
  const env = opts.env ?? context.env ?? process.env
  let handle: SessionHandle | undefined = claim(app, env)
  return new Observable<LogEntry | EntryBatch>((subscriber) => {
    const own = handle ?? claim(app, env)
    handle = undefined
    const collector = new Collector(own, opts, context, subscriber)
    collector.start()
    return () => collector.teardown()
  })
}

/** What was emitted of one read, the positions it took, and what its acknowledgement moves. */
interface Mark {
  readonly reader: PipeReader
  readonly run: string | undefined
  /** Position before the first of these positions. */
  readonly start: number
  /** Positions start + 1 … start + count. */
  readonly count: number
  /** A batch: its index row r took position start + 1 + (r - batch.firstRow). */
  readonly batch: EntryBatch | undefined
  /** The chunk the batch holds, released once the batch is acknowledged. */
  readonly chunk: PipeChunk | undefined
  /** Or decoded entries: entries[from, from + count) took the positions, in order. */
  readonly entries: readonly LogEntry[] | undefined
  readonly from: number
  /** The producer's announced drops once these entries were read. */
  readonly drops: Drops
}

/**
 * What a read handed over and is not yet emitted: demand paused before it (a
 * batch goes out whole), or in the middle of decoded entries.
 */
interface Pending {
  readonly reader: PipeReader
  readonly run: string | undefined
  readonly batch: EntryBatch | undefined
  readonly chunk: PipeChunk | undefined
  readonly entries: readonly LogEntry[] | undefined
  readonly drops: Drops
  next: number
}

class Collector {
  readonly #handle: SessionHandle
  readonly #opts: ParsedOptions
  readonly #ctx: SourceContext
  readonly #subscriber: Subscriber<LogEntry | EntryBatch>
  readonly #dir: string
  readonly #readers = new Map<string, PipeReader>()
  readonly #unsafe = new Set<string>()
  readonly #readerContext: PipeReaderContext
  #watcher: FSWatcher | undefined
  #timer: NodeJS.Timeout | undefined
  #stopResume: (() => void) | undefined
  #paused = false
  #stopped = false
  #completed = false
  #released = false
  #releaseTimer: NodeJS.Timeout | undefined
  #marks: Mark[] = []
  #markHead = 0
  #pending: Pending[] = []
  #emitting = false
  #emitted = 0
  #acked = 0
  #checkpointFailed = false
  /** Checkpoint files this source has open, closed when it releases the session. */
  readonly #checkpointFiles = new Set<CheckpointFile>()
  readonly #onAbort = () => this.#shutdown(true)

  constructor(
    handle: SessionHandle,
    opts: ParsedOptions,
    ctx: SourceContext,
    subscriber: Subscriber<LogEntry | EntryBatch>,
  ) {
    this.#handle = handle
    this.#opts = opts
    this.#ctx = ctx
    this.#subscriber = subscriber
    this.#dir = handle.session.paths.appDir
    this.#readerContext = {
      report: ctx.report,
      maxFrameSize: opts.maxFrameSize,
      pool: new ChunkPool(opts.maxFrameSize),
      emit: (reader, out, chunk) => this.#emit(reader, out, chunk),
      ended: (reader) => this.#ended(reader),
      recovered: (reader, silentMs) =>
        ctx.report({
          code: 'heartbeat_recovered',
          level: 30,
          message: `producer ${reader.source} (pid ${reader.pid}) is back after ${silentMs} ms of silence`,
          details: { pid: reader.pid, source: reader.source, pipe: reader.name, silentMs },
        }),
    }
  }

  start(): void {
    this.#ctx.onAck((position) => this.#onAck(position))
    if (this.#ctx.signal.aborted) {
      this.#shutdown(true)
      return
    }
    this.#ctx.signal.addEventListener('abort', this.#onAbort, { once: true })
    try {
      // The one handle that keeps the process alive while the source listens, as a server socket would.
      this.#watcher = watch(this.#dir, (_event, name) => {
        if (typeof name === 'string' && parsePipeName(name) !== undefined) this.#add(name)
      })
      this.#watcher.on('error', (err) => this.#watchFailed(err))
    } catch (err) {
      this.#watchFailed(err as Error)
    }
    this.#tick()
    this.#timer = setInterval(() => this.#tick(), this.#opts.scanMs)
    this.#timer.unref()
  }

  /** Unsubscribed: stop without draining (a pipeline's close aborts first, which drains). */
  teardown(): void {
    this.#shutdown(false)
    if (!this.#released && this.#releaseTimer === undefined) this.#scheduleRelease()
  }

  #watchFailed(err: Error): void {
    this.#watcher?.close()
    this.#watcher = undefined
    this.#ctx.report({
      code: 'watch_failed',
      message: `cannot watch ${this.#dir} (${err.message}): new producers are found by the rescan every ${this.#opts.scanMs} ms`,
      details: { dir: this.#dir },
    })
  }

  /** Rescans the directory, reaps producers that are gone, checks heartbeats. */
  #tick(): void {
    if (this.#stopped) return
    this.#scan()
    const now = Date.now()
    for (const reader of [...this.#readers.values()]) {
      reader.reportSkips()
      if (!processAlive(reader.pid)) {
        reader.dead = true
        // What it left in the pipe is read first, when there is demand for it.
        if (!this.#paused) {
          reader.drain()
          this.#reap(reader)
        }
        continue
      }
      if (!reader.reading) this.#reopen(reader)
      this.#checkHeartbeat(reader, now)
    }
  }

  #scan(): void {
    let names: string[]
    try {
      names = readdirSync(this.#dir)
    } catch {
      return
    }
    const present = new Set(names)
    const notes: string[] = []
    for (const name of names) {
      if (parsePipeName(name) !== undefined) {
        this.#add(name)
        continue
      }
      const noted = pipeOfNote(name)
      if (noted !== undefined) {
        notes.push(noted)
        continue
      }
      // A checkpoint whose pipe is gone and whose producer is dead will never be needed.
      const pipe = pipeOfCheckpoint(name)
      // (A note beside it is read against it first.)
      if (
        pipe !== undefined &&
        !present.has(pipe) &&
        !present.has(noteFileName(pipe)) &&
        !processAlive(parsePipeName(pipe)?.pid ?? 0)
      ) {
        removeFile(join(this.#dir, name))
      }
    }
    for (const pipe of notes) this.#takeNote(pipe, present.has(pipe))
  }

  /**
   * A producer's close() gave up and left a note beside its pipe: what it
   * left in the pipe is read first, then the note counts what never came,
   * once (it is removed). A pipe that was never made (no collector ran while
   * the producer lived) is judged by its checkpoint, if any, or from nothing.
   */
  #takeNote(pipe: string, pipePresent: boolean): void {
    if (this.#paused) return
    const notePath = join(this.#dir, noteFileName(pipe))
    let reader = this.#readers.get(pipe)
    if (reader === undefined && pipePresent) return // not (yet) readable: the next scan
    const note = readNote(notePath)
    if (note === undefined) {
      // Half made (its temp file is renamed into place) never happens; a foreign file is not ours to read.
      return
    }
    if (reader !== undefined) {
      reader.drain()
    } else {
      const parsed = parsePipeName(pipe)
      if (parsed === undefined) return
      const checkpointPath = join(this.#dir, checkpointFileName(pipe))
      reader = new PipeReader({
        name: pipe,
        path: join(this.#dir, pipe),
        checkpointPath,
        source: parsed.source,
        pid: parsed.pid,
        checkpoint: readCheckpoint(checkpointPath),
        context: this.#readerContext,
      })
      if (!processAlive(parsed.pid)) removeFile(checkpointPath)
    }
    reader.takeNote(note)
    removeFile(notePath)
  }

  #add(name: string): void {
    if (this.#stopped || this.#readers.has(name)) return
    const parsed = parsePipeName(name)
    if (parsed === undefined) return
    const path = join(this.#dir, name)
    let isFifo: boolean
    try {
      isFifo = lstatSync(path).isFIFO()
    } catch {
      return // gone again (a rename or delete event)
    }
    if (!isFifo) {
      this.#reportUnsafe(name, 'it is not a named pipe')
      return
    }
    const checkpointPath = join(this.#dir, checkpointFileName(name))
    const reader = new PipeReader({
      name,
      path,
      checkpointPath,
      source: parsed.source,
      pid: parsed.pid,
      checkpoint: readCheckpoint(checkpointPath),
      context: this.#readerContext,
    })
    if (this.#paused) reader.pause()
    try {
      reader.open()
    } catch (err) {
      this.#reportUnsafe(name, isLogkitError(err) ? err.message : (err as Error).message)
      return
    }
    reader.lastFrameAt = Date.now()
    this.#readers.set(name, reader)
  }

  #reportUnsafe(name: string, reason: string): void {
    if (this.#unsafe.has(name)) return
    this.#unsafe.add(name)
    this.#ctx.report({
      code: 'pipe_unsafe',
      message: `${join(this.#dir, name)} is not read: ${reason}; remove it`,
      details: { pipe: name, reason },
    })
  }

  #emit(reader: PipeReader, out: EntryBatch | LogEntry[], chunk: PipeChunk | undefined): void {
    if (this.#completed) return
    const batch = Array.isArray(out) ? undefined : out
    this.#pending.push({
      reader,
      run: reader.run,
      batch,
      chunk,
      entries: batch === undefined ? (out as LogEntry[]) : undefined,
      drops: reader.stream.drops,
      next: 0,
    })
    this.#emitPending()
  }

  /**
   * Hands out what the pipes gave while there is demand: a batch whole, one
   * per read; decoded entries one by one, so demand can pause in the middle
   * of them. What is left waits here, and the pipes are paused until demand
   * resumes. Once stopped, everything goes out regardless: the runtime asked
   * for what is in hand.
   */
  #emitPending(): void {
    if (this.#emitting) return
    this.#emitting = true
    const subscriber = this.#subscriber
    const demand = this.#ctx.demand
    try {
      while (this.#pending.length > 0) {
        if (!this.#stopped && demand.paused) {
          this.#pauseAll()
          return
        }
        const p = this.#pending[0] as Pending
        const start = this.#emitted
        const batch = p.batch
        if (batch !== undefined) {
          this.#pending.shift()
          // Counted and marked before it goes: its acknowledgement may come back at once.
          this.#emitted += batch.positions
          this.#marks.push(markOf(p, start, batch.positions, 0))
          subscriber.next(batch)
          continue
        }
        const entries = p.entries as readonly LogEntry[]
        const from = p.next
        while (p.next < entries.length) {
          subscriber.next(entries[p.next++] as LogEntry)
          this.#emitted++
          if (!this.#stopped && demand.paused) break
        }
        this.#marks.push(markOf(p, start, p.next - from, from))
        if (p.next === entries.length) this.#pending.shift()
      }
    } finally {
      this.#emitting = false
    }
  }

  #pauseAll(): void {
    if (this.#paused) return
    this.#paused = true
    for (const reader of this.#readers.values()) reader.pause()
    this.#stopResume = this.#ctx.demand.onResume(() => this.#resumeAll())
  }

  #resumeAll(): void {
    this.#stopResume?.()
    this.#stopResume = undefined
    this.#paused = false
    if (this.#stopped) return
    this.#emitPending()
    if (this.#paused) return
    // While paused nothing was read: no one's silence in that time is theirs.
    const now = Date.now()
    for (const reader of this.#readers.values()) {
      reader.lastFrameAt = Math.max(reader.lastFrameAt, now)
      reader.resume()
    }
  }

  /** The writer closed its end: gone for good, or a producer between connections. */
  #ended(reader: PipeReader): void {
    reader.reportSkips()
    if (this.#stopped || reader.closed) return
    if (!processAlive(reader.pid)) {
      reader.dead = true
      this.#reap(reader)
      return
    }
    this.#reopen(reader)
  }

  #reopen(reader: PipeReader): void {
    try {
      reader.open()
    } catch {
      // The pipe was removed or replaced: the rescan picks up whatever is there now.
      reader.close()
      this.#readers.delete(reader.name)
    }
  }

  #checkHeartbeat(reader: PipeReader, now: number): void {
    if (this.#paused || reader.heartbeatWarned || reader.nextCheckIn === undefined) return
    // Any frame is a sign of life; a heartbeat is the promise of the next one.
    const expected = Math.max(reader.nextCheckIn, reader.lastFrameAt + reader.checkInInterval)
    const late = now - expected
    if (late <= this.#opts.heartbeatGraceMs) return
    reader.heartbeatWarned = true
    this.#ctx.report({
      code: 'heartbeat_missed',
      level: 40,
      message: `producer ${reader.source} (pid ${reader.pid}) missed its check-in by ${late} ms`,
      details: {
        pid: reader.pid,
        source: reader.source,
        pipe: reader.name,
        expectedAt: new Date(expected).toISOString(),
        lateMs: late,
        lastSeq: reader.stream.stats.lastSeq,
      },
    })
  }

  /** The producer is gone and its pipe drained: say so once, and remove what was its. */
  #reap(reader: PipeReader): void {
    if (reader.reaped) return
    // A note its producer left before it exited is read against this reader,
    // which knows what was delivered: read later against no checkpoint, it
    // would count the whole run as missing.
    this.#takeNote(reader.name, true)
    reader.reportSkips()
    reader.close()
    reader.reaped = true
    this.#readers.delete(reader.name)
    removeFile(reader.path)
    reader.checkpointFile.close()
    this.#checkpointFiles.delete(reader.checkpointFile)
    removeFile(reader.checkpointPath)
    const goodbye = reader.stream.goodbye
    this.#ctx.report({
      code: 'producer_exited',
      level: goodbye ? 30 : 40,
      message: `producer ${reader.source} (pid ${reader.pid}) exited${goodbye ? '' : ' without saying goodbye'}; its pipe was drained and removed`,
      details: {
        pid: reader.pid,
        source: reader.source,
        lastSeq: reader.stream.stats.lastSeq,
        salvaged: reader.salvaged,
        goodbye,
      },
    })
  }

  /** Stops intake. With `drain`, what is in the pipes is read and emitted first. */
  #shutdown(drain: boolean): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#ctx.signal.removeEventListener('abort', this.#onAbort)
    this.#watcher?.close()
    this.#watcher = undefined
    clearInterval(this.#timer)
    this.#stopResume?.()
    this.#stopResume = undefined
    if (drain) this.#emitPending()
    else this.#pending = []
    for (const reader of [...this.#readers.values()]) {
      if (drain) reader.drain()
      const alive = processAlive(reader.pid)
      if (!alive) {
        this.#reap(reader)
        continue
      }
      reader.reportSkips()
      reader.close()
      // Producers that live on make their pipe again for the next collector;
      // the checkpoint stays for it.
      removeFile(reader.path)
    }
    this.#readers.clear()
    this.#completed = true
    if (this.#acked >= this.#emitted) this.#release()
    this.#subscriber.complete()
  }

  #onAck(position: number): void {
    if (position <= this.#acked) return
    this.#acked = position
    const touched = new Set<PipeReader>()
    const marks = this.#marks
    while (this.#markHead < marks.length) {
      const mark = marks[this.#markHead] as Mark
      const done = Math.min(position - mark.start, mark.count)
      if (done <= 0) break
      const seq =
        mark.batch !== undefined
          ? batchLastSeq(mark.batch, done)
          : lastSeq(mark.entries as readonly LogEntry[], mark.from, done)
      const reader = mark.reader
      if (mark.run === reader.run && seq > reader.ackedSeq) {
        reader.ackedSeq = seq
        reader.ackedDrops = mark.drops
        touched.add(reader)
      }
      if (done < mark.count) break
      // Every position of the batch is acknowledged: no one reads its bytes any more.
      mark.chunk?.release()
      marks[this.#markHead++] = undefined as unknown as Mark
    }
    if (this.#markHead > 1024 && this.#markHead * 2 > marks.length) {
      this.#marks = marks.slice(this.#markHead)
      this.#markHead = 0
    }
    for (const reader of touched) this.#checkpoint(reader)
    if (this.#completed && this.#acked >= this.#emitted) this.#release()
  }

  #checkpoint(reader: PipeReader): void {
    const hello = reader.hello
    if (reader.reaped || hello === undefined || reader.ackedSeq <= reader.checkpointSeq) return
    try {
      this.#checkpointFiles.add(reader.checkpointFile)
      reader.checkpointFile.write({
        hello,
        lastSeq: reader.ackedSeq,
        drops: reader.ackedDrops,
      })
      reader.checkpointSeq = reader.ackedSeq
    } catch (err) {
      if (this.#checkpointFailed) return
      this.#checkpointFailed = true
      this.#ctx.report({
        code: 'checkpoint_failed',
        message: `cannot write ${reader.checkpointPath} (${(err as Error).message}): after a restart, entries of this producer may be counted as lost or arrive twice`,
        details: { pipe: reader.name },
      })
    }
  }

  #scheduleRelease(): void {
    this.#releaseTimer = setTimeout(() => this.#release(), RELEASE_FALLBACK_MS)
    this.#releaseTimer.unref()
  }

  #release(): void {
    if (this.#released) return
    this.#released = true
    clearTimeout(this.#releaseTimer)
    for (const file of this.#checkpointFiles) file.close()
    this.#checkpointFiles.clear()
    try {
      // Other transports may keep the session: producers must not wait for this one.
      this.#handle.session.setTransport('fifo', {})
    } catch {}
    this.#handle.release()
    reading.delete(this.#dir)
  }
}

/** The mark of positions start + 1 … start + count, taken by what `p` holds (its entries from `from` on). */
function markOf(p: Pending, start: number, count: number, from: number): Mark {
  return {
    reader: p.reader,
    run: p.run,
    start,
    count,
    batch: p.batch,
    chunk: p.chunk,
    entries: p.entries,
    from,
    drops: p.drops,
  }
}

/**
 * The seq of the last entry with one among the batch's rows that took the
 * first `done` of its positions: its index rows below firstRow + done (rows
 * are in order).
 */
function batchLastSeq(batch: EntryBatch, done: number): number {
  const rows = batch.rows
  const seqs = batch.index.seq
  let hi = batch.length
  if (done < batch.positions) {
    // The first k with rows[k] >= firstRow + done: rows[0, k) are done.
    const below = batch.firstRow + done
    let lo = 0
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((rows[mid] as number) < below) lo = mid + 1
      else hi = mid
    }
  }
  for (let k = hi - 1; k >= 0; k--) {
    const seq = seqs[rows[k] as number] as number
    if (seq !== 0) return seq
  }
  return 0
}

/** The seq of the last entry with one among entries[from, from + count). */
function lastSeq(entries: readonly LogEntry[], from: number, count: number): number {
  for (let i = from + count - 1; i >= from; i--) {
    const seq = (entries[i] as LogEntry).seq
    if (seq !== 0) return seq
  }
  return 0
}
