// The collector's reader of one producer pipe: the pipe opened O_RDONLY |
// O_NONBLOCK and read through a net.Socket (no libuv pool thread, nothing
// blocking process.exit), one FrameChunker and one ProducerStream for the
// pipe's whole life, and what the source needs to watch it: heartbeat
// deadlines, whether its process lives, what was skipped.
//
// The byte path: each read becomes one chunk of whole frames, indexed and
// not decoded (frame-chunker.ts); its batch frames go through the stream's
// acceptRows (drops, gaps, duplicates, from the index's columns) and the rows
// to emit are handed to the source as one EntryBatch per read. Only hello
// and heartbeat frames are decoded. A new producer run starting inside a
// read splits it: the rows before its hello go out under the run they
// belong to. Entries that do not say who logged them (a producer other than
// logkit's logger) are decoded and tagged from the hello, as they always were.
//
// The socket ends when the last writer closes. A freshly opened read end
// stays quiet until a writer comes (Linux reports no hang-up to a reader that
// has not seen a writer since it opened), so after an end the pipe is simply
// opened again and waits for the producer's next connection.

import { closeSync, constants, fstatSync, readSync } from 'node:fs'
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net'
import {
  type DiagnosticReporter,
  type Drops,
  decodeFrame,
  EntryBatch,
  FRAME_HEADER_SIZE,
  type FrameDecoderStats,
  type HeartbeatFrame,
  type Hello,
  type HelloFrame,
  type LogEntry,
  NO_DROPS,
  openPrivateFile,
  ProducerStream,
} from '@logkit/core'
import {
  type EntryIndex,
  FRAME_MALFORMED,
  KIND_BATCH,
  KIND_HEARTBEAT,
  KIND_HELLO,
  MAX_BATCH_ENTRIES,
  SPAN_APP,
  SPAN_HOSTNAME,
  SPAN_SOURCE,
  SPAN_STRIDE,
} from '@logkit/core/wire'
import type { AbandonedNote } from './abandoned-note.js'
import { type Checkpoint, CheckpointFile, runOf } from './checkpoint.js'
import { type ChunkPool, JOIN_BUFFER_BYTES, type PipeChunk } from './chunk-pool.js'
import { fifoError } from './errors.js'
import { FrameChunker } from './frame-chunker.js'

export interface PipeReaderContext {
  readonly report: DiagnosticReporter
  readonly maxFrameSize: number
  /** Where chunks' indexes and join buffers come from and go back to. */
  readonly pool: ChunkPool
  /**
   * Hands the entries of one read to the source: a batch that holds `chunk`
   * until it is acknowledged (release it then), or entries decoded and tagged.
   */
  emit(reader: PipeReader, out: EntryBatch | LogEntry[], chunk: PipeChunk | undefined): void
  /** The pipe's writer closed: the source decides whether the producer is gone. */
  ended(reader: PipeReader): void
  /** Frames arrived from a producer that had missed its check-in. */
  recovered(reader: PipeReader, silentMs: number): void
}

/** Largest final read at shutdown or reaping: a pipe holds 64 KiB, a live writer may add more. */
const DRAIN_LIMIT = 1024 * 1024
/** Reads shorter than this are copied out of their pooled buffer (see #onRead). */
const SMALL_READ = 8 * 1024

type SkipStats = Pick<
  FrameDecoderStats,
  'skippedBytes' | 'corrupt' | 'malformed' | 'oversized' | 'truncatedBytes'
>

export class PipeReader {
  readonly name: string
  readonly path: string
  readonly checkpointPath: string
  /** Where the checkpoint of this pipe's producer run is kept, rewritten in place. */
  readonly checkpointFile: CheckpointFile
  /** The sequence check of the current producer run (a new hello starts a new one). */
  stream: ProducerStream
  readonly #chunker: FrameChunker
  readonly #ctx: PipeReaderContext
  readonly #fileSource: string
  readonly #filePid: number
  #socket: Socket | undefined
  #fd = -1
  #paused = false
  /** The producer run (pid and start time) whose sequence the stream follows. */
  run: string | undefined
  /** When the producer promised to check in next (ms since epoch), and how often it does. */
  nextCheckIn: number | undefined
  checkInInterval = 0
  lastFrameAt = 0
  heartbeatWarned = false
  /** Set once the producer's process was found gone; entries read after that are salvaged. */
  dead = false
  salvaged = 0
  /** The last seq every sink has done with and the drops announced up to it, for the checkpoint; the seq last written. */
  ackedSeq = 0
  ackedDrops: Drops = NO_DROPS
  checkpointSeq = 0
  /** True once reaped or shut down: nothing more is read from it. */
  closed = false
  /** True once reaped: its checkpoint is gone and stays gone. */
  reaped = false
  readonly #reported: SkipStats = {
    skippedBytes: 0,
    corrupt: 0,
    malformed: 0,
    oversized: 0,
    truncatedBytes: 0,
  }

  constructor(options: {
    name: string
    path: string
    checkpointPath: string
    source: string
    pid: number
    checkpoint: Checkpoint | undefined
    context: PipeReaderContext
  }) {
    this.name = options.name
    this.path = options.path
    this.checkpointPath = options.checkpointPath
    this.checkpointFile = new CheckpointFile(options.checkpointPath)
    this.#fileSource = options.source
    this.#filePid = options.pid
    this.#ctx = options.context
    this.stream = this.#newStream()
    this.#chunker = new FrameChunker(options.context.pool, options.context.maxFrameSize)
    const cp = options.checkpoint
    if (cp !== undefined) {
      // Pick the sequence up where the previous collector left it: what the
      // producer replays up to there is a duplicate, anything missing above it a gap.
      this.#resume(cp)
      this.ackedSeq = cp.lastSeq
      this.ackedDrops = cp.drops
      this.checkpointSeq = cp.lastSeq
    }
  }

  /** The producer's pid: its hello's, else the one its pipe's name says. */
  get pid(): number {
    return this.stream.hello?.pid ?? this.#filePid
  }

  get source(): string {
    return this.stream.hello?.source ?? this.#fileSource
  }

  get hello(): Hello | undefined {
    return this.stream.hello
  }

  get reading(): boolean {
    return this.#socket !== undefined
  }

  /** Opens the pipe for reading; throws for anything that is not this user's named pipe. */
  open(): void {
    if (this.closed || this.#socket !== undefined) return
    const fd = openPrivateFile(this.path, constants.O_RDONLY | constants.O_NONBLOCK)
    if (!fstatSync(fd).isFIFO()) {
      closeSync(fd)
      throw fifoError('LOGKIT_ERR_FIFO_NOT_A_PIPE', `${this.path} is not a named pipe: remove it`, {
        details: { path: this.path },
      })
    }
    // Each read lands in a buffer of the pool (onread: no buffer allocated per
    // read), which the chunk indexed in it holds until its batches are acknowledged.
    const pool = this.#ctx.pool
    const options: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: () => pool.takeBuffer(JOIN_BUFFER_BYTES),
        callback: (n: number, buf: Uint8Array) => {
          this.#onRead(buf as Buffer, n)
          return true // pausing is the source's, through pause()
        },
      },
    }
    // The constructor takes onread as connect() does; the type declarations list it for connect() only.
    const socket = new Socket(options)
    socket.unref()
    socket.on('end', () => this.#onEnd(socket))
    socket.on('error', (err) => {
      if (socket !== this.#socket) return
      this.#ctx.report({
        code: 'pipe_read_failed',
        message: `reading ${this.name} failed: ${err.message}; it is opened again at the next scan`,
        details: { pipe: this.name, pid: this.pid, source: this.source },
      })
      // Not reopened at once: an error that repeats must not spin.
      this.#closeSocket()
      this.#endConnection()
    })
    this.#socket = socket
    this.#fd = fd
    if (this.#paused) socket.pause()
  }

  pause(): void {
    this.#paused = true
    this.#socket?.pause()
  }

  resume(): void {
    this.#paused = false
    this.#socket?.resume()
  }

  /**
   * Reads what is in the pipe right now, synchronously (the fd is non-blocking:
   * this stops at "empty" or at the end) and hands it over. For shutdown and
   * for a producer found gone: what it left is read before the pipe goes.
   */
  drain(): void {
    const socket = this.#socket
    if (socket === undefined) return
    // Every read the socket made was handed over as it came (onread): what is left is in the pipe.
    socket.pause()
    const pool = this.#ctx.pool
    let total = 0
    while (total < DRAIN_LIMIT) {
      // A buffer of the pool per read: batches of it stay in flight after this returns.
      const buf = pool.takeBuffer(JOIN_BUFFER_BYTES)
      let n: number
      try {
        n = readSync(this.#fd, buf, 0, buf.length, null)
      } catch {
        n = 0 // EAGAIN: empty for now
      }
      if (n === 0) {
        pool.giveBuffer(buf) // empty, or no writer left
        break
      }
      total += n
      this.#onRead(buf, n)
    }
  }

  /** Stops reading and closes the fd (the pipe itself stays). */
  close(): void {
    this.closed = true
    this.#closeSocket()
    // Counted as skipped or cut short; nothing is handed out any more.
    this.#chunker.end()?.release()
  }

  /** Reports what the chunker skipped since the last report; returns true when something was. */
  reportSkips(): boolean {
    const now = this.#chunker.stats
    const last = this.#reported
    const d = {
      skippedBytes: now.skippedBytes - last.skippedBytes,
      corrupt: now.corrupt - last.corrupt,
      malformed: now.malformed - last.malformed,
      oversized: now.oversized - last.oversized,
      truncatedBytes: now.truncatedBytes - last.truncatedBytes,
    }
    if (d.skippedBytes + d.corrupt + d.malformed + d.oversized + d.truncatedBytes === 0) return false
    Object.assign(last, {
      skippedBytes: now.skippedBytes,
      corrupt: now.corrupt,
      malformed: now.malformed,
      oversized: now.oversized,
      truncatedBytes: now.truncatedBytes,
    })
    // Frames over maxFrameSize are reported as such (frame_too_large); their bytes are counted here.
    const frames = d.corrupt + d.malformed
    if (d.oversized > 0) {
      // Frames whose header announces more than this source takes: the
      // producer's maxFrameSize is higher. Said as such, besides the bytes.
      this.#ctx.report({
        code: 'frame_too_large',
        level: 50,
        message: `${this.name}: ${d.oversized} frame${d.oversized === 1 ? '' : 's'} over this source's maxFrameSize of ${this.#ctx.maxFrameSize} bytes: the producer's maxFrameSize is larger; raise the fifo source's maxFrameSize to at least the producers' (their entries are lost, and reported as missing seqs)`,
        count: d.oversized,
        details: {
          pipe: this.name,
          pid: this.pid,
          source: this.source,
          maxFrameSize: this.#ctx.maxFrameSize,
        },
      })
    }
    this.#ctx.report({
      code: 'frame_corrupt',
      message: `${this.name}: skipped ${d.skippedBytes} bytes that were not good frames (${frames} damaged frames, ${d.truncatedBytes} bytes of a frame cut short); entries lost with them show as a seq gap`,
      count: frames,
      details: { pipe: this.name, pid: this.pid, source: this.source, ...d },
    })
    return true
  }

  /**
   * The producer's close() gave up and left a note: it stands for the
   * goodbye that never came. Against what this stream delivered of that run
   * (or the checkpoint it resumed), what is missing up to the note's last
   * seq is reported as a seq gap and unannounced drops as drops, once.
   */
  takeNote(note: AbandonedNote): void {
    const run = runOf(note.hello)
    if (run !== this.run) {
      // Nothing of that run was delivered here: all of it is missing.
      if (this.run !== undefined) this.stream = this.#newStream()
      this.stream.accept({ ...note.hello, type: 'hello' } satisfies HelloFrame)
      this.run = run
      this.ackedSeq = 0
      this.ackedDrops = NO_DROPS
      this.checkpointSeq = 0
    }
    this.stream.accept({ type: 'goodbye', lastSeq: note.lastSeq, ...note.drops })
  }

  #newStream(): ProducerStream {
    return new ProducerStream(this.#ctx.report, `fifo producer ${this.name}`)
  }

  /** Takes over a producer run from the previous collector's checkpoint. */
  #resume(cp: Checkpoint): void {
    this.stream.accept({ ...cp.hello, type: 'hello' } satisfies HelloFrame)
    // ProducerStream starts a sequence at its hello; a checkpointed run goes
    // on from what the previous collector delivered and had reported.
    this.stream.resume(cp.lastSeq, cp.drops)
    this.run = runOf(cp.hello)
  }

  #closeSocket(): void {
    const socket = this.#socket
    this.#socket = undefined
    this.#fd = -1
    socket?.destroy()
  }

  /**
   * The n bytes a read put in `buf` (a buffer of the pool, now the chunker's).
   * A small read is copied out and its buffer given back at once: a quiet
   * producer's one-entry reads must not each hold a pooled buffer while
   * queued behind a slow sink.
   */
  #onRead(buf: Buffer, n: number): void {
    if (this.closed) {
      this.#ctx.pool.giveBuffer(buf)
      return
    }
    if (n < SMALL_READ) {
      const bytes = Buffer.allocUnsafe(n)
      buf.copy(bytes, 0, 0, n)
      this.#ctx.pool.giveBuffer(buf)
      this.#onData(bytes, undefined)
    } else this.#onData(buf.subarray(0, n), buf)
  }

  #onData(bytes: Buffer, owner: Buffer | undefined): void {
    const frames = this.#chunker.stats.frames
    const chunk = this.#chunker.push(bytes, owner)
    if (this.#chunker.stats.frames !== frames) {
      const now = Date.now()
      if (this.heartbeatWarned) {
        this.heartbeatWarned = false
        this.#ctx.recovered(this, now - this.lastFrameAt)
      }
      this.lastFrameAt = now
    }
    if (chunk !== undefined) this.#take(chunk)
  }

  #onEnd(socket: Socket): void {
    if (socket !== this.#socket) return
    this.#closeSocket()
    this.#endConnection()
    this.#ctx.ended(this)
  }

  /** A frame cut short at the end cannot be completed by the next connection: a last look at what is carried. */
  #endConnection(): void {
    const chunk = this.#chunker.end()
    if (chunk !== undefined) this.#take(chunk)
  }

  /**
   * Goes through the frames of one chunk in order and hands out the rows to
   * emit: hello and heartbeat frames decoded and handled here, batches
   * checked by the stream from the index's columns, nothing else decoded.
   */
  #take(chunk: PipeChunk): void {
    const index = chunk.index
    const rows = index.entries === 0 ? NO_ROWS : new Int32Array(index.entries)
    // rows[from, n) are the current run's rows not yet handed out; their
    // batches' positions count from index row firstRow.
    let from = 0
    let firstRow = 0
    let n = 0
    let untagged = false
    // One clock read for the chunk's frames: they arrived together.
    const now = Date.now()
    for (let f = 0; f < index.frames; f++) {
      // Counted by the chunker, skipped whole: decodeFrame would refuse it.
      if (((index.frameFlags[f] as number) & FRAME_MALFORMED) !== 0) continue
      const kind = index.frameKind[f]
      if (kind === KIND_BATCH) {
        // A replayed frame already delivered also carries its drop announcement again: count it once.
        if ((index.frameDropped[f] as number) > 0 && delivered(index, f, this.stream.stats.lastSeq)) {
          index.frameDropped[f] = 0
        }
        const before = n
        n = this.stream.acceptRows(index, f, rows, n, now)
        if (!untagged) untagged = !identified(index, rows, before, n)
      } else if (kind === KIND_HELLO) {
        const hello = frameAt(index, f) as HelloFrame
        const run = runOf(hello)
        // The same run reconnecting: its sequence goes on.
        if (run === this.run) continue
        // A new run of the logger: what came before its hello is the last run's.
        if (n > from)
          firstRow = this.#hand(chunk, rows, from, n, untagged, firstRow, (rows[n - 1] as number) + 1)
        from = n
        untagged = false
        // A sequence and counts of its own. The transport's heartbeat promise still holds.
        if (this.run !== undefined) this.stream = this.#newStream()
        this.stream.accept(hello)
        this.run = run
        this.ackedSeq = 0
        this.ackedDrops = NO_DROPS
        this.checkpointSeq = 0
      } else if (kind === KIND_HEARTBEAT) {
        this.#heartbeat(frameAt(index, f) as HeartbeatFrame)
      } else {
        // A goodbye (decoded by the stream), or a frame of a kind this core does not know.
        this.stream.acceptRows(index, f, rows, n, now)
      }
    }
    if (n > from) this.#hand(chunk, rows, from, n, untagged, firstRow, index.entries)
    chunk.release()
  }

  /**
   * Hands rows[from, to) of the chunk to the source: as batches of at most
   * MAX_BATCH_ENTRIES, whose positions count the index rows firstRow …
   * endRow - 1 between them (consecutive ranges, each batch's ending after
   * its last row), or decoded and tagged. Returns endRow.
   */
  #hand(
    chunk: PipeChunk,
    rows: Int32Array,
    from: number,
    to: number,
    untagged: boolean,
    firstRow: number,
    endRow: number,
  ): number {
    if (this.dead) this.salvaged += to - from
    if (untagged) {
      const hello = this.stream.hello
      const batch = new EntryBatch(chunk.index, rows.subarray(from, to))
      const out = new Array<LogEntry>(batch.length)
      for (let k = 0; k < batch.length; k++)
        out[k] = tag(batch.entry(k), hello, this.#fileSource, this.#filePid)
      this.#ctx.emit(this, out, undefined)
      return endRow
    }
    let first = firstRow
    for (let k = from; k < to; k += MAX_BATCH_ENTRIES) {
      const length = Math.min(MAX_BATCH_ENTRIES, to - k)
      const end = k + length < to ? (rows[k + length - 1] as number) + 1 : endRow
      const part = k === 0 && length === rows.length ? rows : rows.subarray(k, k + length)
      chunk.retain()
      this.#ctx.emit(this, new EntryBatch(chunk.index, part, length, first, end - first), chunk)
      first = end
    }
    return endRow
  }

  #heartbeat(frame: HeartbeatFrame): void {
    const next = Number(frame.next / 1_000_000n)
    const now = Number(frame.now / 1_000_000n)
    // A replayed heartbeat is older than one already seen: it never moves the deadline back.
    if (this.nextCheckIn === undefined || next > this.nextCheckIn) {
      this.nextCheckIn = next
      this.checkInInterval = Math.max(0, next - now)
    }
    this.stream.accept(frame)
  }
}

const NO_ROWS = new Int32Array(0)

/** Frame f of the index, decoded (one decodeFrame would accept: not marked malformed). */
function frameAt(index: EntryIndex, f: number) {
  return decodeFrame(
    index.buf,
    (index.frameStart[f] as number) + FRAME_HEADER_SIZE,
    index.frameEnd[f] as number,
  )
}

/** True when batch frame f has entries and every one of them has a seq at or below `lastSeq`. */
function delivered(index: EntryIndex, f: number, lastSeq: number): boolean {
  const first = index.frameFirstEntry[f] as number
  const end = first + (index.frameEntryCount[f] as number)
  if (first === end) return false
  for (let i = first; i < end; i++) {
    const seq = index.seq[i] as number
    if (seq === 0 || seq > lastSeq) return false
  }
  return true
}

/** True when every entry of rows[from, to) says who logged it: source, pid, app and hostname. */
function identified(index: EntryIndex, rows: Int32Array, from: number, to: number): boolean {
  const spans = index.spans
  const pid = index.pid
  for (let k = from; k < to; k++) {
    const row = rows[k] as number
    const at = row * SPAN_STRIDE
    if (
      pid[row] === 0 ||
      spans[at + SPAN_SOURCE] === spans[at + SPAN_SOURCE + 1] ||
      spans[at + SPAN_APP] === spans[at + SPAN_APP + 1] ||
      spans[at + SPAN_HOSTNAME] === spans[at + SPAN_HOSTNAME + 1]
    ) {
      return false
    }
  }
  return true
}

/** Fills in who logged an entry from the pipe's hello (or name) where the entry does not say. */
function tag(entry: LogEntry, hello: Hello | undefined, source: string, pid: number): LogEntry {
  if (entry.source !== '' && entry.pid !== 0 && entry.app !== '' && entry.hostname !== '') return entry
  return {
    ...entry,
    source: entry.source || hello?.source || source,
    pid: entry.pid || hello?.pid || pid,
    app: entry.app || hello?.app || '',
    hostname: entry.hostname || hello?.hostname || '',
  }
}
