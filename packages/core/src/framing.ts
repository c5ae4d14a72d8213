// Length-delimited frames, the unit every transport moves:
//
//   offset 0  'L' 'K'        magic, where a reader resynchronises after garbage
//          2  version (1)
//          3  flags: 0, or FRAME_FLAG_HASH (the check below is the frame hash)
//          4  payload length, uint32 LE
//          8  the payload's check, uint32 LE: CRC-32, or the frame hash (frame-check.ts)
//         12  payload: one protobuf logkit.v1.Frame
//
// The decoder takes arbitrary chunk boundaries, refuses frames over its limit
// without allocating them, skips garbage by scanning for the next valid header
// (the check tells a real frame from a stray 'LK'), counts every skip, and never
// throws on bad input.

import {
  decodeFrame,
  type EncodableEntry,
  type GoodbyeInit,
  ProtoWriter,
  writeBatch,
  writeGoodbye,
  writeHeartbeat,
  writeHello,
  writeSingleEntryBatch,
} from './codec.js'
import { crc32 } from './crc32.js'
import { LogkitError } from './errors.js'
import { type DropReasons, type Frame, type HeartbeatFrame, type Hello, NO_DROP_REASONS } from './frame.js'
import { frameCheckMatches, viewOf } from './frame-check.js'

export const FRAME_MAGIC_0 = 0x4c // 'L'
export const FRAME_MAGIC_1 = 0x4b // 'K'
export const FRAME_VERSION = 1
export const FRAME_HEADER_SIZE = 12
/** Offsets of the header's slots. */
export const FRAME_LENGTH_OFFSET = 4
export const FRAME_CRC_OFFSET = 8
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024

/**
 * Encodes frames into one reused buffer. Each method returns a view of the
 * whole frame (header and payload), valid until the encoder's next call: a
 * transport copies what it keeps.
 */
export class FrameEncoder {
  readonly #w = new ProtoWriter()
  readonly maxFrameSize: number

  constructor({ maxFrameSize = DEFAULT_MAX_FRAME_SIZE }: { maxFrameSize?: number } = {}) {
    this.maxFrameSize = maxFrameSize
  }

  entry(entry: EncodableEntry, dropped = 0, reasons: DropReasons = NO_DROP_REASONS): Buffer {
    this.#start()
    writeSingleEntryBatch(this.#w, entry, dropped, reasons)
    return this.#finish()
  }

  batch(entries: readonly EncodableEntry[], dropped = 0, reasons: DropReasons = NO_DROP_REASONS): Buffer {
    this.#start()
    writeBatch(this.#w, entries, dropped, reasons)
    return this.#finish()
  }

  hello(hello: Hello): Buffer {
    this.#start()
    writeHello(this.#w, hello)
    return this.#finish()
  }

  heartbeat(heartbeat: Omit<HeartbeatFrame, 'type'>): Buffer {
    this.#start()
    writeHeartbeat(this.#w, heartbeat)
    return this.#finish()
  }

  goodbye(goodbye: GoodbyeInit): Buffer {
    this.#start()
    writeGoodbye(this.#w, goodbye)
    return this.#finish()
  }

  #start(): void {
    this.#w.reset(FRAME_HEADER_SIZE)
  }

  #finish(): Buffer {
    const w = this.#w
    const length = w.pos - FRAME_HEADER_SIZE
    if (length > this.maxFrameSize) throw frameTooLarge(length, this.maxFrameSize)
    writeFrameHeader(w.buf, 0, length, crc32(w.buf, FRAME_HEADER_SIZE, w.pos))
    return w.buf.subarray(0, w.pos)
  }
}

/** The 12-byte frame header at `at`, for a payload of `length` bytes with check `check` (CRC-32, or the frame hash with FRAME_FLAG_HASH). */
export function writeFrameHeader(buf: Buffer, at: number, length: number, check: number, flags = 0): void {
  buf[at] = FRAME_MAGIC_0
  buf[at + 1] = FRAME_MAGIC_1
  buf[at + 2] = FRAME_VERSION
  buf[at + 3] = flags
  putUint32(buf, at + FRAME_LENGTH_OFFSET, length)
  putUint32(buf, at + FRAME_CRC_OFFSET, check)
}

/** A little-endian uint32, stored byte by byte (cheaper than writeUInt32LE's checks on the hot path). */
export function putUint32(buf: Buffer, at: number, value: number): void {
  buf[at] = value
  buf[at + 1] = value >>> 8
  buf[at + 2] = value >>> 16
  buf[at + 3] = value >>> 24
}

export function frameTooLarge(length: number, maxFrameSize: number): LogkitError {
  return new LogkitError(
    'LOGKIT_ERR_FRAME_TOO_LARGE',
    `frame of ${length} bytes is over the ${maxFrameSize}-byte limit: log smaller entries or raise maxFrameSize on both sides`,
    { details: { length, maxFrameSize } },
  )
}

/** What the decoder skipped, by reason. Every byte that is not part of a good frame is counted. */
export interface FrameDecoderStats {
  /** Frames decoded and delivered. */
  frames: number
  /** Bytes skipped while looking for a frame header (garbage, broken frames). */
  skippedBytes: number
  /** Headers whose payload failed the CRC. */
  corrupt: number
  /** Headers announcing a payload over the limit (never allocated). */
  oversized: number
  /** Frames with a good CRC whose payload is not a valid Frame. */
  malformed: number
  /** Bytes left over at `end()`: a frame cut short. */
  truncatedBytes: number
}

/** Stats with nothing counted yet (for a decoder, or another reader that counts as it does). */
export function emptyDecoderStats(): FrameDecoderStats {
  return { frames: 0, skippedBytes: 0, corrupt: 0, oversized: 0, malformed: 0, truncatedBytes: 0 }
}

export interface FrameDecoderOptions {
  maxFrameSize?: number
  /** Called once per good frame, in order. */
  onFrame: (frame: Frame) => void
}

export class FrameDecoder {
  readonly stats: FrameDecoderStats = emptyDecoderStats()
  readonly #maxFrameSize: number
  readonly #onFrame: (frame: Frame) => void
  /** Copies of the bytes kept between pushes, and how many bytes are needed before parsing again. */
  #pending: Buffer[] = []
  #pendingBytes = 0
  #need = 0

  constructor({ maxFrameSize = DEFAULT_MAX_FRAME_SIZE, onFrame }: FrameDecoderOptions) {
    this.#maxFrameSize = maxFrameSize
    this.#onFrame = onFrame
  }

  /** Bytes held while waiting for the rest of a frame (at most one frame and its header). */
  get pendingBytes(): number {
    return this.#pendingBytes
  }

  /** Feed bytes; the decoder copies what it keeps, so the chunk may be reused afterwards. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    const view = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
    if (this.#pendingBytes > 0) {
      if (this.#pendingBytes + view.length < this.#need) {
        this.#pending.push(Buffer.from(view))
        this.#pendingBytes += view.length
        return
      }
      this.#pending.push(view)
      const data = Buffer.concat(this.#pending, this.#pendingBytes + view.length)
      this.#pending = []
      this.#pendingBytes = 0
      this.#parse(data)
    } else {
      this.#parse(view)
    }
  }

  /** No more bytes will come: what is held is a frame cut short, counted and dropped. */
  end(): void {
    if (this.#pendingBytes === 0) return
    // What is held may be a real frame cut short, or a false header whose
    // length swallowed good frames behind it: look through it once more, now
    // treating a frame that cannot complete as garbage.
    const data = Buffer.concat(this.#pending, this.#pendingBytes)
    this.#pending = []
    this.#pendingBytes = 0
    this.#need = 0
    this.#parse(data, true)
  }

  #parse(data: Buffer, final = false): void {
    const stats = this.stats
    const size = data.length
    const view = viewOf(data)
    let i = 0
    // In the final pass: where the first frame that could not complete began.
    let incomplete = -1
    let framesBefore = 0
    let skippedBefore = 0
    let tail = 0
    while (i < size) {
      if (data[i] !== FRAME_MAGIC_0 || !(i + 1 >= size || data[i + 1] === FRAME_MAGIC_1)) {
        let next = data.indexOf(FRAME_MAGIC_0, i + 1)
        if (next < 0) next = size
        stats.skippedBytes += next - i
        i = next
        continue
      }
      if (size - i < FRAME_HEADER_SIZE) {
        if (final) {
          tail = size - i
          break
        }
        this.#keep(data, i, FRAME_HEADER_SIZE)
        return
      }
      const length = data.readUInt32LE(i + FRAME_LENGTH_OFFSET)
      if (data[i + 1] !== FRAME_MAGIC_1 || data[i + 2] !== FRAME_VERSION || length > this.#maxFrameSize) {
        if (length > this.#maxFrameSize && data[i + 1] === FRAME_MAGIC_1 && data[i + 2] === FRAME_VERSION) {
          stats.oversized++
        }
        stats.skippedBytes++
        i++
        continue
      }
      const end = i + FRAME_HEADER_SIZE + length
      if (end > size) {
        if (final) {
          // Cannot complete: skip this header's first byte and look again.
          if (incomplete < 0) {
            incomplete = i
            framesBefore = stats.frames
            skippedBefore = stats.skippedBytes
          }
          stats.skippedBytes++
          i++
          continue
        }
        this.#keep(data, i, FRAME_HEADER_SIZE + length)
        return
      }
      if (
        !frameCheckMatches(
          data,
          data[i + 3] as number,
          i + FRAME_HEADER_SIZE,
          end,
          data.readUInt32LE(i + FRAME_CRC_OFFSET),
          view,
        )
      ) {
        stats.corrupt++
        stats.skippedBytes++
        i++
        continue
      }
      let frame: Frame
      try {
        frame = decodeFrame(data, i + FRAME_HEADER_SIZE, end)
      } catch {
        stats.malformed++
        stats.skippedBytes += end - i
        i = end
        continue
      }
      i = end
      stats.frames++
      this.#onFrame(frame)
    }
    if (incomplete >= 0 && stats.frames === framesBefore) {
      // Nothing good came after it: it was a frame cut short, not garbage.
      stats.skippedBytes = skippedBefore
      stats.truncatedBytes += size - incomplete
    } else {
      stats.truncatedBytes += tail
    }
  }

  #keep(data: Buffer, from: number, need: number): void {
    this.#pending = [Buffer.from(data.subarray(from))]
    this.#pendingBytes = data.length - from
    this.#need = need
  }
}
