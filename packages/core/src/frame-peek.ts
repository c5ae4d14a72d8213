// What the producer transport needs to know about a frame it is handed,
// read straight from the bytes without decoding the entry: which kind of
// frame it is (the hello is kept apart and re-sent on every connection), and,
// when it matters (a heartbeat's last seq, an eviction's count), the entries
// of a batch. Frames are the logger's own, but a short or odd frame only
// yields "unknown" or zero, never an exception.

import { FRAME_HEADER_SIZE, FRAME_LENGTH_OFFSET } from './framing.js'
import {
  BATCH_ENTRY,
  ENTRY_SEQ,
  FRAME_BATCH,
  FRAME_GOODBYE,
  FRAME_HEARTBEAT,
  FRAME_HELLO,
} from './wire/tags.js'

export type FrameKind = 'batch' | 'hello' | 'heartbeat' | 'goodbye' | 'unknown'

/** The size of the whole frame (header and payload) starting at `at`. */
export function frameSize(buf: Uint8Array, at: number): number {
  const o = at + FRAME_LENGTH_OFFSET
  const length =
    ((buf[o] as number) | ((buf[o + 1] as number) << 8) | ((buf[o + 2] as number) << 16)) +
    (buf[o + 3] as number) * 0x1000000
  return FRAME_HEADER_SIZE + length
}

export function frameKind(frame: Uint8Array, at = 0): FrameKind {
  if (frame.length < at + FRAME_HEADER_SIZE + 1) return 'unknown'
  switch (frame[at + FRAME_HEADER_SIZE]) {
    case FRAME_BATCH:
      return 'batch'
    case FRAME_HELLO:
      return 'hello'
    case FRAME_HEARTBEAT:
      return 'heartbeat'
    case FRAME_GOODBYE:
      return 'goodbye'
    default:
      return 'unknown'
  }
}

/** A varint at `pos`: [value, position after it], or undefined past `end`. */
function varint(buf: Uint8Array, pos: number, end: number): [number, number] | undefined {
  let value = 0
  let scale = 1
  for (let p = pos; p < end && p < pos + 10; p++) {
    const byte = buf[p] as number
    value += (byte & 127) * scale
    if (byte < 128) return [value, p + 1]
    scale *= 128
  }
  return undefined
}

/** Moves past one field of wire type `type` at `pos`; undefined when it does not fit. */
function skip(buf: Uint8Array, pos: number, end: number, type: number): number | undefined {
  if (type === 0) return varint(buf, pos, end)?.[1]
  if (type === 1) return pos + 8 <= end ? pos + 8 : undefined
  if (type === 5) return pos + 4 <= end ? pos + 4 : undefined
  if (type === 2) {
    const len = varint(buf, pos, end)
    return len !== undefined && len[1] + len[0] <= end ? len[1] + len[0] : undefined
  }
  return undefined
}

export interface BatchPeek {
  /** Entries in the batch. */
  readonly entries: number
  /** The seq of its last entry (0 when it has none). */
  readonly lastSeq: number
}

/** Counts the entries of the batch frame at `at` and finds its last seq. */
export function peekBatch(frame: Uint8Array, at = 0): BatchPeek {
  let entries = 0
  let lastSeq = 0
  if (frameKind(frame, at) !== 'batch') return { entries, lastSeq }
  const end = Math.min(frame.length, at + frameSize(frame, at))
  const body = varint(frame, at + FRAME_HEADER_SIZE + 1, end)
  if (body === undefined) return { entries, lastSeq }
  let pos = body[1]
  const bodyEnd = Math.min(end, pos + body[0])
  while (pos < bodyEnd) {
    const tag = varint(frame, pos, bodyEnd)
    if (tag === undefined) break
    pos = tag[1]
    if (tag[0] !== BATCH_ENTRY) {
      const next = skip(frame, pos, bodyEnd, tag[0] & 7)
      if (next === undefined) break
      pos = next
      continue
    }
    const len = varint(frame, pos, bodyEnd)
    if (len === undefined) break
    const entryEnd = len[1] + len[0]
    if (entryEnd > bodyEnd) break
    entries++
    lastSeq = 0
    let p = len[1]
    while (p < entryEnd) {
      const field = varint(frame, p, entryEnd)
      if (field === undefined) break
      if (field[0] === ENTRY_SEQ) {
        const seq = varint(frame, field[1], entryEnd)
        if (seq !== undefined) lastSeq = seq[0]
        break
      }
      const next = skip(frame, field[1], entryEnd, field[0] & 7)
      if (next === undefined) break
      p = next
    }
    pos = entryEnd
  }
  return { entries, lastSeq }
}
