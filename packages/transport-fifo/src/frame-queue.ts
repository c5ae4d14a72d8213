// The producer's bounded buffer: frames copied into 64 KiB chunks, written to
// the pipe a chunk at a time, oldest first.
//
//   chunk:  start ─────── sent ─────────── end ──── (room)
//           │ in the pipe  │ waiting to go  │
//
// Bytes before `sent` went into the current connection's pipe. They are kept
// for a while (at least a pipe's worth, `replayBytes`) instead of freed:
// when the collector goes away, whatever sat unread in the kernel's pipe
// buffer dies with that pipe, so on the next connection those frames are sent
// again. The collector drops what it already delivered by seq (it remembers
// the last seq it delivered in a checkpoint file), so a replay costs bytes,
// never duplicates.
//
// The bound applies to bytes not yet in the pipe. A full buffer applies the
// policy: drop_newest refuses the new frame (the logger counts and announces
// it), drop_oldest evicts the oldest waiting frames (the collector sees them
// as a seq gap, with the exact count).

import { frameKind, frameSize, peekBatch } from '@logkit/core/producer'

export type BufferPolicy = 'drop_newest' | 'drop_oldest'

export interface FrameQueueOptions {
  /** Most bytes of frames waiting to be written. */
  readonly capacityBytes: number
  readonly policy: BufferPolicy
  /** Size of a buffer chunk; a larger frame gets a chunk of its own. */
  readonly chunkBytes?: number
  /** Written bytes kept to be sent again after a reconnect (at least a pipe's capacity). */
  readonly replayBytes?: number
}

interface Chunk {
  readonly id: number
  readonly buf: Buffer
  /** First live byte; eviction moves it forward. */
  start: number
  /** End of the frames copied in. */
  end: number
  /** [start, sent) is in the current connection's pipe. */
  sent: number
  /** Bytes below this went into some pipe at least once: evicting them loses nothing new. */
  sentHigh: number
}

/** A position in the queue: everything before it has been written when the queue is past it. */
export interface QueueMark {
  readonly id: number
  readonly offset: number
}

/** Where the last frame pushed was copied to. */
export interface FrameLocation {
  readonly buf: Buffer
  readonly at: number
}

export const DEFAULT_CHUNK_BYTES = 64 * 1024
/** Linux's default pipe capacity: what can sit unread in a pipe when its reader dies. */
export const PIPE_CAPACITY = 64 * 1024

export class FrameQueue {
  readonly #capacity: number
  readonly #policy: BufferPolicy
  readonly #chunkBytes: number
  readonly #replayBytes: number
  #chunks: Chunk[] = []
  #nextId = 0
  #pending = 0
  #retained = 0
  #inflight: { chunk: Chunk; end: number } | undefined
  #last: FrameLocation | undefined
  /** Frames refused because the buffer was full (drop_newest, or nothing left to evict). */
  droppedFrames = 0
  /** Frames evicted by drop_oldest. */
  evictedFrames = 0
  /** Entries in evicted frames that had never been written: lost, and seen as a seq gap by the collector. */
  evictedEntries = 0

  constructor(options: FrameQueueOptions) {
    this.#capacity = options.capacityBytes
    this.#policy = options.policy
    this.#chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES
    this.#replayBytes = options.replayBytes ?? PIPE_CAPACITY
  }

  /** Bytes waiting to be written on the current connection. */
  get pendingBytes(): number {
    return this.#pending
  }

  /** Most bytes of frames waiting to be written. */
  get capacityBytes(): number {
    return this.#capacity
  }

  /** True when `n` more bytes fit without the policy having to act. */
  fits(n: number): boolean {
    return this.#pending + n <= this.#capacity
  }

  /**
   * The entries in frames not yet written on the current connection, and the
   * goodbye among them if there is one: what close() gives up when no
   * collector takes them. Walks the frames, so only for close, never per write.
   */
  unsent(): { entries: number; frames: number; goodbye: boolean } {
    let entries = 0
    let frames = 0
    let goodbye = false
    for (const chunk of this.#chunks) {
      // A frame begun on this connection is in the pipe in part: count it whole, it cannot be finished.
      for (
        let at = this.#frameAtOrBefore(chunk, chunk.sent);
        at < chunk.end;
        at += frameSize(chunk.buf, at)
      ) {
        frames++
        const kind = frameKind(chunk.buf, at)
        if (kind === 'batch') entries += peekBatch(chunk.buf, at).entries
        else if (kind === 'goodbye') goodbye = true
      }
    }
    return { entries, frames, goodbye }
  }

  /** The start of the frame that holds byte `pos` of `chunk` (or `pos` itself at a frame boundary). */
  #frameAtOrBefore(chunk: Chunk, pos: number): number {
    let at = chunk.start
    while (at < chunk.end) {
      const next = at + frameSize(chunk.buf, at)
      if (next > pos) return at
      at = next
    }
    return at
  }

  /** Written bytes kept for a replay. */
  get retainedBytes(): number {
    return this.#retained
  }

  get inflight(): boolean {
    return this.#inflight !== undefined
  }

  /** Where the last frame pushed lives (valid as long as it is referenced: chunks are never reused). */
  get lastPushed(): FrameLocation | undefined {
    return this.#last
  }

  /**
   * Copies `frame` in; false when the policy refused it. An `optional` frame
   * (a heartbeat) goes in only where there is room: it never evicts an entry
   * and is not counted when it does not fit.
   */
  push(frame: Uint8Array, optional = false): boolean {
    const n = frame.length
    if (optional && this.#pending + n > this.#capacity) return false
    if (n > this.#capacity || (this.#pending + n > this.#capacity && !this.#makeRoom(n))) {
      this.droppedFrames++
      return false
    }
    let tail = this.#chunks[this.#chunks.length - 1]
    if (tail === undefined || tail.buf.length - tail.end < n) {
      tail = this.#newChunk(Math.max(this.#chunkBytes, n))
    }
    tail.buf.set(frame, tail.end)
    this.#last = { buf: tail.buf, at: tail.end }
    tail.end += n
    this.#pending += n
    return true
  }

  /** The next bytes to write, or undefined when nothing waits. Call `written()` or `failed()` after. */
  take(): Buffer | undefined {
    if (this.#inflight !== undefined) return undefined
    for (const chunk of this.#chunks) {
      if (chunk.sent < chunk.end) {
        this.#inflight = { chunk, end: chunk.end }
        return chunk.buf.subarray(chunk.sent, chunk.end)
      }
    }
    return undefined
  }

  /**
   * The bytes from the last `take()` are in the pipe, or the first `count` of
   * them (a non-blocking write to a pipe can be partial); the rest is taken again.
   */
  written(count?: number): number {
    const inflight = this.#inflight
    if (inflight === undefined) return 0
    this.#inflight = undefined
    const { chunk } = inflight
    // Eviction never touches a chunk in flight, so `sent` is where the write began.
    const n = count === undefined ? inflight.end - chunk.sent : Math.min(count, inflight.end - chunk.sent)
    const end = chunk.sent + n
    chunk.sent = end
    if (end > chunk.sentHigh) chunk.sentHigh = end
    this.#pending -= n
    this.#retained += n
    this.#trim()
    return n
  }

  /** The write from the last `take()` failed; its bytes wait for the next connection. */
  failed(): void {
    this.#inflight = undefined
  }

  /** A new connection: everything kept is sent again, oldest first. */
  rewind(): void {
    this.#inflight = undefined
    for (const chunk of this.#chunks) chunk.sent = chunk.start
    this.#pending += this.#retained
    this.#retained = 0
  }

  /** The position after everything pushed so far. */
  mark(): QueueMark {
    const tail = this.#chunks[this.#chunks.length - 1]
    return tail === undefined ? { id: -1, offset: 0 } : { id: tail.id, offset: tail.end }
  }

  /** True when everything before `mark` has been written (or evicted) on the current connection. */
  isPast(mark: QueueMark): boolean {
    for (const chunk of this.#chunks) {
      if (chunk.sent >= chunk.end) continue
      if (chunk.id !== mark.id) return chunk.id > mark.id
      return chunk.sent >= mark.offset
    }
    return true
  }

  #newChunk(size: number): Chunk {
    const chunk: Chunk = {
      id: this.#nextId++,
      buf: Buffer.allocUnsafe(size),
      start: 0,
      end: 0,
      sent: 0,
      sentHigh: 0,
    }
    this.#chunks.push(chunk)
    return chunk
  }

  /** Frees written chunks beyond what a replay needs. */
  #trim(): void {
    const chunks = this.#chunks
    while (chunks.length > 1) {
      const head = chunks[0] as Chunk
      const size = head.end - head.start
      if (head.sent < head.end || this.#retained - size < this.#replayBytes) return
      chunks.shift()
      this.#retained -= size
    }
  }

  /** drop_oldest: evicts waiting frames, oldest first, until `n` more bytes fit. */
  #makeRoom(n: number): boolean {
    if (this.#policy !== 'drop_oldest') return false
    while (this.#pending + n > this.#capacity) {
      const chunk = this.#chunks.find(
        (c) => c.sent === c.start && c.start < c.end && c !== this.#inflight?.chunk,
      )
      if (chunk === undefined) return false
      const size = frameSize(chunk.buf, chunk.start)
      if (chunk.start >= chunk.sentHigh) this.evictedEntries += peekBatch(chunk.buf, chunk.start).entries
      this.evictedFrames++
      chunk.start += size
      chunk.sent = chunk.start
      this.#pending -= size
      if (chunk.start === chunk.end && chunk !== this.#chunks[this.#chunks.length - 1]) {
        this.#chunks.splice(this.#chunks.indexOf(chunk), 1)
      }
    }
    return true
  }
}
