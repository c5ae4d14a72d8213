// Finding frames in a ring: the one place that knows where a frame of the
// shared framing (packages/core framing.ts) starts in a ring's data and
// whether it is whole. The collector reads with it; a producer that closes
// uses it to see whether only its goodbye is left.
//
// Garbage between frames is skipped a byte at a time, and each stray 'LK'
// header in it claims a length whose CRC must be checked. Without a bound an
// adversarial run of headers, each claiming the largest frame, costs a CRC
// of up to maxFrameSize per skipped byte. So checks that fail are paid for
// out of a budget that grows with the bytes skipped (CHECK_BYTES_PER_SKIPPED
// per byte, on top of one largest frame): the work per skipped byte is
// bounded, and ordinary corruption (where a stray header is rare) never
// comes near the bound. A candidate beyond the budget is taken for garbage.

import {
  FRAME_CRC_OFFSET,
  FRAME_HEADER_SIZE,
  FRAME_MAGIC_0,
  FRAME_MAGIC_1,
  FRAME_VERSION,
  frameCheckMatches,
} from '@logkit/core/producer'
import type { Ring } from './ring.js'

/** CRC bytes a run of garbage may spend on failed candidates, per byte it skips. */
export const CHECK_BYTES_PER_SKIPPED = 64

/** A frame found in a ring: the buffer holding it whole (the ring's data, or a copy when it wraps) and where. */
export interface FoundFrame {
  buf: Buffer
  at: number
  size: number
}

const scratch = { buf: Buffer.allocUnsafe(64 * 1024) }
/** The answer, shared by every scanner and reused from frame to frame: nothing is allocated per frame. */
const found: FoundFrame = { buf: scratch.buf, at: 0, size: 0 }

/** One per ring: the budget belongs to the run of garbage in that ring. */
export class FrameScanner {
  /** CRC bytes spent on candidates that were not frames, since the scanner was made (for tests and status). */
  failedCheckBytes = 0
  readonly #maxFrameSize: number
  /** What the current run of garbage may still spend on checks that fail. */
  #budget: number

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize
    this.#budget = maxFrameSize
  }

  /**
   * The frame at position p, valid until the next call, or undefined when no
   * valid frame starts there (then the caller skips a byte and calls
   * skipped()). `available` bytes are written from p on.
   */
  at(ring: Ring, p: number, available: number): FoundFrame | undefined {
    if (available < FRAME_HEADER_SIZE) return undefined
    if (
      ring.byteAt(p) !== FRAME_MAGIC_0 ||
      ring.byteAt(p + 1) !== FRAME_MAGIC_1 ||
      ring.byteAt(p + 2) !== FRAME_VERSION
    ) {
      return undefined
    }
    const length = ring.frameLengthAt(p)
    const size = FRAME_HEADER_SIZE + length
    if (length > this.#maxFrameSize || size > available || length > this.#budget) return undefined
    const at = p & ring.mask
    const whole = found
    if (at + size <= ring.capacity) {
      whole.buf = ring.data
      whole.at = at
    } else {
      whole.buf = ring.bytes(p, size, scratch)
      whole.at = 0
    }
    whole.size = size
    const start = whole.at + FRAME_HEADER_SIZE
    const check = whole.buf.readUInt32LE(whole.at + FRAME_CRC_OFFSET)
    if (frameCheckMatches(whole.buf, whole.buf[whole.at + 3] as number, start, start + length, check)) {
      // A real frame ends the run of garbage: the next run starts with a full budget.
      this.#budget = this.#maxFrameSize
      return whole
    }
    this.#budget -= length
    this.failedCheckBytes += length
    return undefined
  }

  /** The caller skipped `n` bytes of garbage: they earn the run more checks. */
  skipped(n: number): void {
    this.#budget = Math.min(this.#maxFrameSize, this.#budget + n * CHECK_BYTES_PER_SKIPPED)
  }
}
