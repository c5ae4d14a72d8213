// An index over a byte range of whole frames (a region of a ring, a pipe
// chunk): for every entry of every batch frame, its header columns and the
// byte spans of its strings, in typed arrays that are reused from call to
// call. Nothing is decoded and nothing is allocated per entry or per frame;
// an operator that looks only at the header (level, app, source, rate) reads
// the columns, and a sink that writes JSON copies the spans (json-render.ts).
//
//   frame  = 'L' 'K' version flags len(u32 LE) check(u32 LE: CRC-32 or the frame sum) payload (framing.ts)
//   payload = logkit.v1.Frame: batch | hello | heartbeat | goodbye (tags.ts)
//
// Invariants:
// - Every position the index records lies inside its entry's bytes, which lie
//   inside its frame, which lies inside [start, end) of the call: nothing
//   read or recorded ever reaches outside the frame, whatever its bytes say.
// - It never throws on what the bytes say. An entry is valid exactly when
//   codec.ts's readEntry would accept its bytes (same varint limits, wire
//   types 0/1/2/5 only, lengths inside the entry; unknown fields skipped);
//   an entry that is not is kept as a numbered slot, marked invalid and
//   counted, so no other entry moves. A frame whose structure breaks (a
//   length past its end, a cut varint, a wire type protobuf does not have)
//   is marked malformed and counted; the entries whole before the break stay,
//   nothing after it is indexed. A frame is malformed exactly when decodeFrame
//   would refuse it (tested both ways), so a caller that wants today's
//   all-or-nothing rule per frame can have it from frameFlags.
// - As decodeFrame: the last body of a frame wins (entries of an earlier
//   batch body are taken back), a level of 0 with a severity takes the
//   severity's level, a field given twice keeps its last value.
// - The header (magic, version, length) is checked; the CRC only when asked
//   (checkCrc), as callers check it today. At a header it cannot trust, or a
//   frame that does not end inside the range, indexing stops and says why
//   (`stop`), at the frame's first byte (`end`): resynchronising after
//   garbage is the caller's, who knows the transport.
// - Numbers: level, pid and seq are kept as doubles with the value
//   decodeFrame gives (exact below 2^53; a longer varint is the same double
//   decodeFrame makes). Time is kept as its two uint32 halves; timeMs()
//   gives the milliseconds exactly (see there).

import { frameCheckMatches, viewOf } from '../frame-check.js'
import {
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_CRC_OFFSET,
  FRAME_HEADER_SIZE,
  FRAME_LENGTH_OFFSET,
  FRAME_MAGIC_0,
  FRAME_MAGIC_1,
  FRAME_VERSION,
} from '../framing.js'
import { severityToLevel } from '../levels.js'
import { type WireImplementation, type WireNative, wireFor } from './native.js'
import {
  BATCH_DROPPED,
  BATCH_ENTRY,
  ENTRY_APP,
  ENTRY_FIELDS_JSON,
  ENTRY_HOSTNAME,
  ENTRY_LEVEL,
  ENTRY_MESSAGE,
  ENTRY_PID,
  ENTRY_SEQ,
  ENTRY_SEVERITY,
  ENTRY_SOURCE,
  ENTRY_SPAN_ID,
  ENTRY_TIME,
  ENTRY_TRACE_ID,
  FRAME_BATCH,
  FRAME_GOODBYE,
  FRAME_HEARTBEAT,
  FRAME_HELLO,
  WIRE_FIXED32,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
} from './tags.js'

// Slots of an entry's row in `spans`: [start, end) of each string, and of the
// entry's own bytes. An absent string is an empty span (0, 0): a line writes
// an absent string and an empty one alike.
export const SPAN_MESSAGE = 0
export const SPAN_APP = 2
export const SPAN_SOURCE = 4
export const SPAN_HOSTNAME = 6
export const SPAN_FIELDS = 8
export const SPAN_TRACE_ID = 10
export const SPAN_SPAN_ID = 12
/** The entry's bytes inside its batch (its LogEntry message, without tag and length). */
export const SPAN_ENTRY = 14
/** Slots per entry in `spans`. */
export const SPAN_STRIDE = 16

// Frame kinds: the field number of the frame's body (0: none this core knows).
export const KIND_NONE = 0
export const KIND_BATCH = 1
export const KIND_HELLO = 2
export const KIND_HEARTBEAT = 3
export const KIND_GOODBYE = 4

/** frameFlags: decodeFrame would refuse this frame (see the header comment for what is still indexed). */
export const FRAME_MALFORMED = 1

/**
 * Why indexing stopped at `end`: every frame was taken ('end'), the last
 * frame does not end inside the range or its header is cut ('partial'), the
 * bytes at `end` are not a frame header this core reads or announce a frame
 * over maxFrameSize ('bad-header'), or the frame at `end` failed its CRC
 * ('corrupt', only with checkCrc).
 */
export type IndexStop = 'end' | 'partial' | 'bad-header' | 'corrupt'

// The columns live in two blocks (one ArrayBuffer each) that the native
// indexer (native.ts) writes as they are, at these offsets for a capacity of
// n entries / m frames; packages/wire-native/native/wire.cc reads the same
// layout (its Entries and Frames). Every Float64 column starts at a multiple
// of 8 bytes whatever n is.
//   entries: level f64 @0, pid f64 @8n, seq f64 @16n, timeHi u32 @24n,
//            timeLo u32 @28n, spans u32×16 @32n, entryFrame u32 @96n, valid u8 @100n
//   frames:  frameDropped f64 @0, frameStart u32 @8m, frameEnd u32 @12m,
//            frameFirstEntry u32 @16m, frameEntryCount u32 @20m, frameKind u8 @24m, frameFlags u8 @25m
const ENTRY_BLOCK_BYTES_PER_ROW = 101
const FRAME_BLOCK_BYTES_PER_ROW = 26

// The native indexer's state slots and answers (wire.cc).
const STATE_ENTRIES = 0
const STATE_FRAMES = 1
const STATE_INVALID = 2
const STATE_MALFORMED = 3
const STATE_END = 4
const STATE_STOP = 5
const NEED_ENTRIES = 1
const STOPS: readonly IndexStop[] = ['end', 'partial', 'bad-header', 'corrupt']

export interface EntryIndexOptions {
  /** Check each frame's CRC-32 (a frame that fails stops indexing as 'corrupt'). Default false. */
  readonly checkCrc?: boolean
  /** Frames announcing a larger payload stop indexing as 'bad-header'. */
  readonly maxFrameSize?: number
  /** Entries to make room for at first (grown by doubling). */
  readonly capacity?: number
  /** Whose loop indexes: the addon's ('native', an error when it is missing) or the TypeScript's; default: the addon when installed (native.ts). */
  readonly implementation?: WireImplementation
}

const NO_BYTES = Buffer.alloc(0)

/** The position after the varint at p, or -1 when `limit` cuts it or it is longer than 10 bytes (as codec.ts refuses). */
function varintEnd(buf: Buffer, p: number, limit: number): number {
  const max = p + 10 < limit ? p + 10 : limit
  for (let q = p; q < max; q++) if ((buf[q] as number) < 0x80) return q + 1
  return -1
}

/** The value of the varint buf[p, end), computed as codec.ts does: exact below 2^53, the same double above. */
function varintValue(buf: Buffer, p: number, end: number): number {
  let value = 0
  let scale = 1
  for (let q = p; q < end; q++) {
    value += ((buf[q] as number) & 127) * scale
    scale *= 128
  }
  return value
}

/** A uint32 stored little-endian at p (in range: the caller checked). */
function uint32At(buf: Buffer, p: number): number {
  return (
    ((buf[p] as number) | ((buf[p + 1] as number) << 8) | ((buf[p + 2] as number) << 16)) +
    (buf[p + 3] as number) * 0x1000000
  )
}

/** The position after a field of wire type `wire` whose value starts at p, or -1 when it does not fit before `limit`. */
function skipField(buf: Buffer, p: number, limit: number, wire: number): number {
  if (wire === WIRE_VARINT) return varintEnd(buf, p, limit)
  if (wire === WIRE_FIXED64) return p + 8 <= limit ? p + 8 : -1
  if (wire === WIRE_FIXED32) return p + 4 <= limit ? p + 4 : -1
  if (wire === WIRE_LEN) {
    const q = varintEnd(buf, p, limit)
    if (q < 0) return -1
    const next = q + varintValue(buf, p, q)
    return next <= limit ? next : -1
  }
  return -1
}

/** True when buf[p, limit) is a sequence of well-formed fields (what decodeFrame asks of a hello, heartbeat or goodbye). */
function wellFormedFields(buf: Buffer, p: number, limit: number): boolean {
  let q = p
  while (q < limit) {
    const t = varintEnd(buf, q, limit)
    if (t < 0) return false
    q = skipField(buf, t, limit, varintValue(buf, q, t) & 7)
    if (q < 0) return false
  }
  return true
}

export class EntryIndex {
  /** The bytes every position refers to (set by index()). */
  buf: Buffer = NO_BYTES
  /** Entries indexed (valid or not): rows 0 … entries-1 of the entry columns. */
  entries = 0
  /** Frames indexed: rows 0 … frames-1 of the frame columns. */
  frames = 0
  /** Entries marked invalid since the last index(). */
  invalidEntries = 0
  /** Frames marked FRAME_MALFORMED since the last index(). */
  malformedFrames = 0
  /** Where the last call stopped: after its last whole frame. */
  end = 0
  /** Why it stopped there. */
  stop: IndexStop = 'end'

  /** The entry columns' block and the rows it has room for (JsonRenderer's native loop reads it). */
  entryBlock!: ArrayBuffer
  capacity!: number
  /** The frame columns' block and its rows. */
  frameBlock!: ArrayBuffer
  frameCapacity!: number

  // Entry columns; row i is entry i. Longer than `entries` (grown by doubling).
  /** 1 for an entry whose bytes are well-formed, 0 for one marked invalid (its other columns are 0). */
  valid!: Uint8Array
  /** pino level (0 with a severity: the severity's level, as decodeFrame). */
  level!: Float64Array
  pid!: Float64Array
  /** Exact below 2^53; a larger varint is the double decodeFrame makes of it. */
  seq!: Float64Array
  /** time_unix_nano = timeHi · 2^32 + timeLo. */
  timeHi!: Uint32Array
  timeLo!: Uint32Array
  /** [start, end) byte positions in buf, SPAN_STRIDE per entry (SPAN_* slots). */
  spans!: Uint32Array
  /** The frame row each entry belongs to. */
  entryFrame!: Uint32Array

  // Frame columns; row f is frame f, in byte order.
  /** First byte of the frame's header. */
  frameStart!: Uint32Array
  /** The byte after the frame's payload. */
  frameEnd!: Uint32Array
  /** KIND_*: the body decodeFrame would give. */
  frameKind!: Uint8Array
  /** FRAME_MALFORMED or 0. */
  frameFlags!: Uint8Array
  /** The frame's entries are rows firstEntry … firstEntry + entryCount - 1. */
  frameFirstEntry!: Uint32Array
  frameEntryCount!: Uint32Array
  /** A batch's `dropped` count (entries the producer lost before it). */
  frameDropped!: Float64Array

  readonly #checkCrc: boolean
  readonly #maxFrameSize: number
  readonly #native: WireNative | undefined
  readonly #state = new Float64Array(6)

  constructor({
    checkCrc = false,
    maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
    capacity = 1024,
    implementation,
  }: EntryIndexOptions = {}) {
    this.#checkCrc = checkCrc
    this.#maxFrameSize = maxFrameSize
    this.#native = wireFor(implementation)
    this.#layEntries(Math.max(16, capacity))
    // Room for one frame per entry: what a producer of the shm transport writes.
    this.#layFrames(this.capacity)
  }

  /** Whose loop this index runs. */
  get implementation(): WireImplementation {
    return this.#native === undefined ? 'js' : 'native'
  }

  /**
   * Indexes the frames of buf[start, end), forgetting what was indexed before.
   * Returns where it stopped (also `end`); `stop` says why.
   */
  index(buf: Buffer, start = 0, end = buf.length): number {
    this.buf = buf
    this.entries = 0
    this.frames = 0
    this.invalidEntries = 0
    this.malformedFrames = 0
    return this.add(start, end)
  }

  /**
   * Indexes the frames of buf[start, end) after those already indexed (same
   * buf): for a caller that skipped garbage at `end` and goes on.
   */
  add(start: number, end: number): number {
    if (this.#native !== undefined) return this.#addNative(this.#native, start, end)
    const buf = this.buf
    const limit = Math.min(end, buf.length)
    const view = this.#checkCrc ? viewOf(buf) : undefined
    let p = start
    this.stop = 'end'
    while (p < limit) {
      if (limit - p < FRAME_HEADER_SIZE) {
        this.stop = 'partial'
        break
      }
      if (buf[p] !== FRAME_MAGIC_0 || buf[p + 1] !== FRAME_MAGIC_1 || buf[p + 2] !== FRAME_VERSION) {
        this.stop = 'bad-header'
        break
      }
      const length = uint32At(buf, p + FRAME_LENGTH_OFFSET)
      if (length > this.#maxFrameSize) {
        this.stop = 'bad-header'
        break
      }
      const frameEnd = p + FRAME_HEADER_SIZE + length
      if (frameEnd > limit) {
        this.stop = 'partial'
        break
      }
      if (
        this.#checkCrc &&
        !frameCheckMatches(
          buf,
          buf[p + 3] as number,
          p + FRAME_HEADER_SIZE,
          frameEnd,
          uint32At(buf, p + FRAME_CRC_OFFSET),
          view,
        )
      ) {
        this.stop = 'corrupt'
        break
      }
      this.#frame(p, frameEnd)
      p = frameEnd
    }
    this.end = p
    return p
  }

  /** add() in the addon: the same columns, grown here when a frame does not fit them. */
  #addNative(native: WireNative, start: number, end: number): number {
    const state = this.#state
    let from = start
    for (;;) {
      state[STATE_ENTRIES] = this.entries
      state[STATE_FRAMES] = this.frames
      state[STATE_INVALID] = this.invalidEntries
      state[STATE_MALFORMED] = this.malformedFrames
      const status = native.index(
        this.buf,
        from,
        end,
        this.#checkCrc,
        this.#maxFrameSize,
        this.entryBlock,
        this.capacity,
        this.frameBlock,
        this.frameCapacity,
        state,
      )
      this.entries = state[STATE_ENTRIES] as number
      this.frames = state[STATE_FRAMES] as number
      this.invalidEntries = state[STATE_INVALID] as number
      this.malformedFrames = state[STATE_MALFORMED] as number
      this.end = state[STATE_END] as number
      this.stop = STOPS[state[STATE_STOP] as number] as IndexStop
      if (status === 0) return this.end
      if (status === NEED_ENTRIES) this.#growEntries()
      else this.#growFrames()
      from = this.end
    }
  }

  /** Drops the reference to the bytes (a ring, a chunk) so that the index does not keep them alive. */
  release(): void {
    this.buf = NO_BYTES
    this.entries = 0
    this.frames = 0
  }

  /**
   * The entry's time in whole milliseconds since the epoch, floor(ns / 10^6),
   * exactly, in doubles: with ns = hi·2^32 + lo and 2^32 = 4294·10^6 + 967296,
   * ms = hi·4294 + floor((hi·967296 + lo) / 10^6), where the inner sum stays
   * below 2^52 and its quotient below 2^32, so the division's rounding cannot
   * reach the next integer.
   */
  timeMs(i: number): number {
    const hi = this.timeHi[i] as number
    return hi * 4294 + Math.floor((hi * 967296 + (this.timeLo[i] as number)) / 1e6)
  }

  /** The entry's time in nanoseconds, as decodeFrame gives it. */
  timeNs(i: number): bigint {
    return (BigInt(this.timeHi[i] as number) << 32n) + BigInt(this.timeLo[i] as number)
  }

  /** A string of the entry (SPAN_* slot) decoded as decodeFrame decodes it ('' when absent). */
  text(i: number, slot: number): string {
    const at = i * SPAN_STRIDE + slot
    return this.buf.toString('utf8', this.spans[at], this.spans[at + 1])
  }

  /** One frame at buf[start, end), its header already checked. */
  #frame(start: number, end: number): void {
    if (this.frames === this.frameCapacity) this.#growFrames()
    const f = this.frames++
    const buf = this.buf
    this.frameStart[f] = start
    this.frameEnd[f] = end
    this.frameFirstEntry[f] = this.entries
    this.frameEntryCount[f] = 0
    this.frameDropped[f] = 0
    this.frameFlags[f] = 0
    let kind = KIND_NONE
    let ok = true
    let p = start + FRAME_HEADER_SIZE
    // The frame's top level, read as decodeFrame reads it: each body as it
    // comes, the last one standing.
    while (p < end) {
      const t = varintEnd(buf, p, end)
      if (t < 0) {
        ok = false
        break
      }
      const tag = varintValue(buf, p, t)
      if (tag !== FRAME_BATCH && tag !== FRAME_HELLO && tag !== FRAME_HEARTBEAT && tag !== FRAME_GOODBYE) {
        p = skipField(buf, t, end, tag & 7)
        if (p < 0) {
          ok = false
          break
        }
        continue
      }
      const l = varintEnd(buf, t, end)
      const bodyEnd = l < 0 ? -1 : l + varintValue(buf, t, l)
      if (l < 0 || bodyEnd > end) {
        ok = false
        break
      }
      // A later body replaces an earlier batch's entries, as in decodeFrame.
      this.#takeBack(f)
      kind = (tag as number) >>> 3
      if (tag === FRAME_BATCH) ok = this.#batch(f, l, bodyEnd)
      else ok = wellFormedFields(buf, l, bodyEnd)
      if (!ok) break
      p = bodyEnd
    }
    this.frameKind[f] = kind
    this.frameEntryCount[f] = this.entries - (this.frameFirstEntry[f] as number)
    if (ok && this.frameFlags[f] === 0) return
    this.frameFlags[f] = FRAME_MALFORMED
    this.malformedFrames++
  }

  /**
   * Forgets the entries indexed so far for frame f (a later body wins). Its
   * flag stays: decodeFrame refuses a frame with a broken body even when a
   * later one would have replaced it.
   */
  #takeBack(f: number): void {
    const first = this.frameFirstEntry[f] as number
    for (let i = first; i < this.entries; i++) if (this.valid[i] === 0) this.invalidEntries--
    this.entries = first
    this.frameDropped[f] = 0
  }

  /** A Batch at buf[start, end): its entries and dropped count. False when its structure breaks. */
  #batch(f: number, start: number, end: number): boolean {
    const buf = this.buf
    let p = start
    while (p < end) {
      const t = varintEnd(buf, p, end)
      if (t < 0) return false
      const tag = varintValue(buf, p, t)
      if (tag === BATCH_ENTRY) {
        const l = varintEnd(buf, t, end)
        if (l < 0) return false
        const entryEnd = l + varintValue(buf, t, l)
        if (entryEnd > end) return false
        if (!this.#entry(f, l, entryEnd)) this.frameFlags[f] = FRAME_MALFORMED
        p = entryEnd
      } else if (tag === BATCH_DROPPED) {
        p = varintEnd(buf, t, end)
        if (p < 0) return false
        this.frameDropped[f] = varintValue(buf, t, p)
      } else {
        p = skipField(buf, t, end, tag & 7)
        if (p < 0) return false
      }
    }
    return true
  }

  /**
   * One LogEntry at buf[start, end) into the next row; false (and the row
   * marked invalid) when its bytes are not well-formed. The hot loop of the
   * index: one-byte tags and lengths (nearly all of them) are read inline.
   */
  #entry(f: number, start: number, end: number): boolean {
    if (this.entries === this.capacity) this.#growEntries()
    const i = this.entries++
    const buf = this.buf
    let level = 0
    let severity = 0
    let pid = 0
    let seq = 0
    let hi = 0
    let lo = 0
    let msgStart = 0
    let msgEnd = 0
    let appStart = 0
    let appEnd = 0
    let sourceStart = 0
    let sourceEnd = 0
    let hostStart = 0
    let hostEnd = 0
    let fieldsStart = 0
    let fieldsEnd = 0
    let traceStart = 0
    let traceEnd = 0
    let spanStart = 0
    let spanEnd = 0
    let ok = true
    let p = start
    while (p < end) {
      let tag = buf[p] as number
      if (tag < 0x80) p++
      else {
        const t = varintEnd(buf, p, end)
        if (t < 0) {
          ok = false
          break
        }
        tag = varintValue(buf, p, t)
        p = t
      }
      const wire = tag & 7
      if (wire === WIRE_LEN) {
        let s: number
        let length: number
        if (p < end && (buf[p] as number) < 0x80) {
          length = buf[p] as number
          s = p + 1
        } else {
          s = varintEnd(buf, p, end)
          if (s < 0) {
            ok = false
            break
          }
          length = varintValue(buf, p, s)
        }
        const e = s + length
        if (e > end) {
          ok = false
          break
        }
        p = e
        if (tag === ENTRY_MESSAGE) {
          msgStart = s
          msgEnd = e
        } else if (tag === ENTRY_APP) {
          appStart = s
          appEnd = e
        } else if (tag === ENTRY_SOURCE) {
          sourceStart = s
          sourceEnd = e
        } else if (tag === ENTRY_HOSTNAME) {
          hostStart = s
          hostEnd = e
        } else if (tag === ENTRY_FIELDS_JSON) {
          fieldsStart = s
          fieldsEnd = e
        } else if (tag === ENTRY_TRACE_ID) {
          traceStart = s
          traceEnd = e
        } else if (tag === ENTRY_SPAN_ID) {
          spanStart = s
          spanEnd = e
        }
      } else if (wire === WIRE_VARINT) {
        let value: number
        if (p < end && (buf[p] as number) < 0x80) value = buf[p++] as number
        else {
          const e = varintEnd(buf, p, end)
          if (e < 0) {
            ok = false
            break
          }
          value = varintValue(buf, p, e)
          p = e
        }
        if (tag === ENTRY_LEVEL) level = value
        else if (tag === ENTRY_SEVERITY) severity = value
        else if (tag === ENTRY_PID) pid = value
        else if (tag === ENTRY_SEQ) seq = value
      } else if (wire === WIRE_FIXED64) {
        if (p + 8 > end) {
          ok = false
          break
        }
        if (tag === ENTRY_TIME) {
          lo = uint32At(buf, p)
          hi = uint32At(buf, p + 4)
        }
        p += 8
      } else if (wire === WIRE_FIXED32) {
        if (p + 4 > end) {
          ok = false
          break
        }
        p += 4
      } else {
        ok = false
        break
      }
    }
    this.entryFrame[i] = f
    const row = i * SPAN_STRIDE
    const spans = this.spans
    spans[row + SPAN_ENTRY] = start
    spans[row + SPAN_ENTRY + 1] = end
    if (!ok) {
      // Nothing of a broken entry is trusted: a line never shows half of it.
      this.valid[i] = 0
      this.level[i] = 0
      this.pid[i] = 0
      this.seq[i] = 0
      this.timeHi[i] = 0
      this.timeLo[i] = 0
      spans.fill(0, row, row + SPAN_ENTRY)
      this.invalidEntries++
      return false
    }
    this.valid[i] = 1
    this.level[i] = level === 0 && severity !== 0 ? severityToLevel(severity) : level
    this.pid[i] = pid
    this.seq[i] = seq
    this.timeHi[i] = hi
    this.timeLo[i] = lo
    spans[row + SPAN_MESSAGE] = msgStart
    spans[row + SPAN_MESSAGE + 1] = msgEnd
    spans[row + SPAN_APP] = appStart
    spans[row + SPAN_APP + 1] = appEnd
    spans[row + SPAN_SOURCE] = sourceStart
    spans[row + SPAN_SOURCE + 1] = sourceEnd
    spans[row + SPAN_HOSTNAME] = hostStart
    spans[row + SPAN_HOSTNAME + 1] = hostEnd
    spans[row + SPAN_FIELDS] = fieldsStart
    spans[row + SPAN_FIELDS + 1] = fieldsEnd
    spans[row + SPAN_TRACE_ID] = traceStart
    spans[row + SPAN_TRACE_ID + 1] = traceEnd
    spans[row + SPAN_SPAN_ID] = spanStart
    spans[row + SPAN_SPAN_ID + 1] = spanEnd
    return true
  }

  /** Doubles the entry block, rows kept. */
  #growEntries(): void {
    this.#layEntries(this.capacity * 2)
  }

  /** Doubles the frame block, rows kept. */
  #growFrames(): void {
    this.#layFrames(this.frameCapacity * 2)
  }

  /**
   * A new entry block of n rows, the columns laid out in it as wire-native's
   * Entries reads them (101 bytes a row), the rows so far copied over.
   */
  #layEntries(n: number): void {
    const block = new ArrayBuffer(n * ENTRY_BLOCK_BYTES_PER_ROW)
    this.level = keep(this.level, new Float64Array(block, 0, n))
    this.pid = keep(this.pid, new Float64Array(block, 8 * n, n))
    this.seq = keep(this.seq, new Float64Array(block, 16 * n, n))
    this.timeHi = keep(this.timeHi, new Uint32Array(block, 24 * n, n))
    this.timeLo = keep(this.timeLo, new Uint32Array(block, 28 * n, n))
    this.spans = keep(this.spans, new Uint32Array(block, 32 * n, n * SPAN_STRIDE))
    this.entryFrame = keep(this.entryFrame, new Uint32Array(block, 96 * n, n))
    this.valid = keep(this.valid, new Uint8Array(block, 100 * n, n))
    this.entryBlock = block
    this.capacity = n
  }

  /** A new frame block of m rows, laid out as wire-native's Frames reads it (26 bytes a row), rows copied over. */
  #layFrames(m: number): void {
    const block = new ArrayBuffer(m * FRAME_BLOCK_BYTES_PER_ROW)
    this.frameDropped = keep(this.frameDropped, new Float64Array(block, 0, m))
    this.frameStart = keep(this.frameStart, new Uint32Array(block, 8 * m, m))
    this.frameEnd = keep(this.frameEnd, new Uint32Array(block, 12 * m, m))
    this.frameFirstEntry = keep(this.frameFirstEntry, new Uint32Array(block, 16 * m, m))
    this.frameEntryCount = keep(this.frameEntryCount, new Uint32Array(block, 20 * m, m))
    this.frameKind = keep(this.frameKind, new Uint8Array(block, 24 * m, m))
    this.frameFlags = keep(this.frameFlags, new Uint8Array(block, 25 * m, m))
    this.frameBlock = block
    this.frameCapacity = m
  }
}

/** `next` holding `old`'s rows first (a first block: nothing to keep). */
function keep<T extends Uint8Array | Uint32Array | Float64Array>(old: T | undefined, next: T): T {
  if (old !== undefined) next.set(old as never)
  return next
}
