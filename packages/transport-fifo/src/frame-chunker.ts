// A pipe's bytes as chunks of whole frames, indexed (EntryIndex) and not
// decoded: what the collector's reader of one pipe turns each read into.
//
//   read ─▶ [ carried tail | read bytes ]  one buffer (the read's own when nothing is carried)
//             └─ index whole frames; skip garbage as FrameDecoder does ─┘
//                                 the frame cut at the end ─▶ carried into the next read's buffer
//
// Garbage is skipped and counted exactly as FrameDecoder (core's framing.ts)
// skips it, so `stats` reads the same: a byte that cannot start a frame is
// skipped up to the next 'L'; a header with another version or over
// maxFrameSize, or a frame failing its CRC, loses its first byte and the
// scan goes on from the next; a frame decodeFrame would refuse (the index
// marks it FRAME_MALFORMED) is skipped whole. A frame not yet complete (or a
// header cut short) is carried, copied, until the bytes it announced have
// come. At end(), what is carried is looked through once more: a frame that
// cannot complete loses its first byte, and when no good frame follows it,
// it was a frame cut short (truncatedBytes), not garbage.
//
// The chunks' bytes are never written again while a batch of them may be in
// flight: a read's buffer (from the pool) goes back only when the chunk
// indexed in it is released, a joined chunk gets a buffer of the pool, and
// the carried tail lives in a buffer of this chunker's that no index ever
// points into.

import {
  emptyDecoderStats,
  FRAME_HEADER_SIZE,
  FRAME_LENGTH_OFFSET,
  FRAME_MAGIC_0,
  FRAME_MAGIC_1,
  FRAME_VERSION,
  type FrameDecoderStats,
} from '@logkit/core'
import { type EntryIndex, FRAME_MALFORMED } from '@logkit/core/wire'
import { type ChunkPool, JOIN_BUFFER_BYTES, PipeChunk } from './chunk-pool.js'

const NO_BYTES = Buffer.alloc(0)

export class FrameChunker {
  readonly stats: FrameDecoderStats = emptyDecoderStats()
  readonly #pool: ChunkPool
  readonly #maxFrameSize: number
  /** The bytes carried to the next read: carry[0, carried). Never indexed in place. */
  #carry: Buffer = NO_BYTES
  #carried = 0
  /** How many bytes the carried frame (or header) needs in all before it can be looked at again. */
  #need = 0

  constructor(pool: ChunkPool, maxFrameSize: number) {
    this.#pool = pool
    this.#maxFrameSize = maxFrameSize
  }

  /** Bytes carried while waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.#carried
  }

  /**
   * The frames completed by `bytes` (after what was carried), indexed; or
   * undefined when none was. `bytes` must not be written again while a batch
   * of the chunk is in flight (a read's own buffer never is). `owner`, a
   * pooled buffer `bytes` lie in, is the chunker's: held by the chunk when
   * its frames are indexed in place, given back to the pool when they are
   * copied (or there are none).
   */
  push(bytes: Buffer, owner?: Buffer): PipeChunk | undefined {
    const n = bytes.length
    if (this.#carried === 0 && n > 0) return this.#index(bytes, n, owner, false)
    const total = this.#carried + n
    if (total < this.#need || n === 0) {
      bytes.copy(this.#carry, this.#carried)
      this.#carried = total
      if (owner !== undefined) this.#pool.giveBuffer(owner)
      return undefined
    }
    const buffer = this.#pool.takeBuffer(total)
    this.#carry.copy(buffer, 0, 0, this.#carried)
    bytes.copy(buffer, this.#carried)
    if (owner !== undefined) this.#pool.giveBuffer(owner)
    this.#dropCarry()
    return this.#index(buffer, total, buffer, false)
  }

  /** No more bytes will come on this connection: the carried bytes are looked through a last time. */
  end(): PipeChunk | undefined {
    const total = this.#carried
    if (total === 0) return undefined
    const buffer = this.#pool.takeBuffer(total)
    this.#carry.copy(buffer, 0, 0, total)
    this.#dropCarry()
    return this.#index(buffer, total, buffer, true)
  }

  #dropCarry(): void {
    this.#carried = 0
    this.#need = 0
    // A frame far larger than a read left a large carry: it is not kept for the next one.
    if (this.#carry.length > JOIN_BUFFER_BYTES) this.#carry = NO_BYTES
  }

  /** Keeps data[from, size) for the next read, which must bring `need` bytes in all. */
  #keep(data: Buffer, from: number, size: number, need: number): void {
    const n = size - from
    if (this.#carry.length < need) this.#carry = Buffer.allocUnsafe(Math.max(need, 4096))
    data.copy(this.#carry, 0, from, size)
    this.#carried = n
    this.#need = need
  }

  /** Indexes the frames of data[0, size), skipping and counting what is not a good frame. */
  #index(data: Buffer, size: number, buffer: Buffer | undefined, final: boolean): PipeChunk | undefined {
    const stats = this.stats
    const index = this.#pool.takeIndex(size)
    index.index(data, 0, 0)
    let good = 0
    let i = 0
    // In the final pass: where the first frame that could not complete began.
    let incomplete = -1
    let goodBefore = 0
    let skippedBefore = 0
    let tail = 0
    while (i < size) {
      const from = index.frames
      i = index.add(i, size)
      good += this.#count(index, from)
      if (index.stop === 'end') break
      // Stopped at i: not a frame that can be taken now. Resynchronise as FrameDecoder does.
      if (data[i] !== FRAME_MAGIC_0 || !(i + 1 >= size || data[i + 1] === FRAME_MAGIC_1)) {
        let next = data.indexOf(FRAME_MAGIC_0, i + 1)
        if (next < 0 || next > size) next = size
        stats.skippedBytes += next - i
        i = next
        continue
      }
      if (size - i < FRAME_HEADER_SIZE) {
        if (final) tail = size - i
        else this.#keep(data, i, size, FRAME_HEADER_SIZE)
        break
      }
      const length = data.readUInt32LE(i + FRAME_LENGTH_OFFSET)
      if (data[i + 2] !== FRAME_VERSION || length > this.#maxFrameSize) {
        if (data[i + 2] === FRAME_VERSION) stats.oversized++
        stats.skippedBytes++
        i++
        continue
      }
      if (index.stop === 'corrupt') {
        stats.corrupt++
        stats.skippedBytes++
        i++
        continue
      }
      // 'partial': a good header whose frame does not end inside the bytes.
      if (!final) {
        this.#keep(data, i, size, FRAME_HEADER_SIZE + length)
        break
      }
      // Cannot complete: skip this header's first byte and look again.
      if (incomplete < 0) {
        incomplete = i
        goodBefore = good
        skippedBefore = stats.skippedBytes
      }
      stats.skippedBytes++
      i++
    }
    if (final) {
      if (incomplete >= 0 && good === goodBefore) {
        // Nothing good came after it: it was a frame cut short, not garbage.
        stats.skippedBytes = skippedBefore
        stats.truncatedBytes += size - incomplete
      } else {
        stats.truncatedBytes += tail
      }
    }
    if (good === 0) {
      this.#pool.give(index, buffer)
      return undefined
    }
    return new PipeChunk(index, buffer, this.#pool)
  }

  /** Counts the frames indexed from row `from` on: good ones, and malformed ones skipped whole. */
  #count(index: EntryIndex, from: number): number {
    const stats = this.stats
    let good = 0
    for (let f = from; f < index.frames; f++) {
      if (((index.frameFlags[f] as number) & FRAME_MALFORMED) !== 0) {
        stats.malformed++
        stats.skippedBytes += (index.frameEnd[f] as number) - (index.frameStart[f] as number)
      } else {
        stats.frames++
        good++
      }
    }
    return good
  }
}
