// Test helpers for the wire tests: regions of real frames (made by the real
// writers), frames made by hand (bytes no writer makes), and the oracle every
// wire test compares with — decodeFrame's entries through formatJson.

import { decodeFrame, putVarint } from '../src/codec.js'
import { crc32 } from '../src/crc32.js'
import type { LogEntry } from '../src/entry.js'
import { EntryFrameWriter } from '../src/entry-writer.js'
import { formatJson } from '../src/format/json.js'
import { FRAME_HEADER_SIZE, FrameEncoder, writeFrameHeader } from '../src/framing.js'
import { randomEntry } from './helpers.js'

/** A frame of a region, and the lines decodeFrame + formatJson make of it. */
export interface RegionFrame {
  start: number
  end: number
  type: string
  lines: string[]
}

export interface Region {
  buf: Buffer
  frames: RegionFrame[]
  /** Every line, in order. */
  lines: string[]
}

/** The lines decodeFrame gives for the frame at buf[start, end), or undefined when it refuses it. */
export function decodedLines(buf: Buffer, start: number, end: number): string[] | undefined {
  try {
    const frame = decodeFrame(buf, start + FRAME_HEADER_SIZE, end)
    return frame.type === 'batch' ? frame.entries.map((e) => `${formatJson(e)}\n`) : []
  } catch {
    return undefined
  }
}

/** The type decodeFrame gives for the frame at buf[start, end) ('malformed' when it refuses it). */
export function decodedType(buf: Buffer, start: number, end: number): string {
  try {
    return decodeFrame(buf, start + FRAME_HEADER_SIZE, end).type
  } catch {
    return 'malformed'
  }
}

/** A whole frame (header with a good CRC) around `payload`. */
export function frameOf(payload: Buffer): Buffer {
  const frame = Buffer.alloc(FRAME_HEADER_SIZE + payload.length)
  payload.copy(frame, FRAME_HEADER_SIZE)
  writeFrameHeader(frame, 0, payload.length, crc32(frame, FRAME_HEADER_SIZE, frame.length))
  return frame
}

/** A varint's bytes. */
export function varint(value: number): Buffer {
  const buf = Buffer.alloc(10)
  return buf.subarray(0, putVarint(buf, 0, value))
}

/** A length-delimited field: tag, length, bytes. */
export function lenField(tag: number, bytes: Buffer | string): Buffer {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
  return Buffer.concat([Buffer.from([tag]), varint(b.length), b])
}

/** The payload of a batch frame holding these entry messages (bytes of LogEntry, as given). */
export function batchPayload(entries: Buffer[], extra: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.concat([...entries.map((e) => lenField(0x0a, e)), extra])
  return lenField(0x0a, body)
}

/** The frames of a region, whose bytes are `parts` one after the other. */
export function regionOf(parts: Buffer[]): Region {
  const buf = Buffer.concat(parts)
  const frames: RegionFrame[] = []
  const lines: string[] = []
  let at = 0
  for (const part of parts) {
    const start = at
    at += part.length
    const l = decodedLines(buf, start, at) ?? []
    frames.push({ start, end: at, type: decodedType(buf, start, at), lines: l })
    lines.push(...l)
  }
  return { buf, frames, lines }
}

/**
 * A region of `count` random entries (helpers.randomEntry: awkward strings and
 * numbers), written by every real writer: FrameEncoder.entry and .batch, and
 * the logger's EntryFrameWriter, with hello, heartbeat and goodbye frames
 * between them.
 */
export function randomRegion(rnd: () => number, count: number, firstSeq = 1): Region {
  const encoder = new FrameEncoder({ maxFrameSize: 16 * 1024 * 1024 })
  const parts: Buffer[] = []
  let seq = firstSeq
  let left = count
  while (left > 0) {
    const pick = rnd()
    if (pick < 0.05) {
      parts.push(Buffer.from(controlFrame(encoder, rnd)))
      continue
    }
    if (pick < 0.4) {
      parts.push(Buffer.from(encoder.entry(randomEntry(rnd, seq++), Math.floor(rnd() * 3))))
      left--
    } else if (pick < 0.7) {
      const n = Math.min(left, 1 + Math.floor(rnd() * 5))
      const entries: LogEntry[] = []
      for (let k = 0; k < n; k++) entries.push(randomEntry(rnd, seq++))
      parts.push(Buffer.from(encoder.batch(entries, Math.floor(rnd() * 2))))
      left -= n
    } else {
      parts.push(writerFrame(randomEntry(rnd, seq++)))
      left--
    }
  }
  return regionOf(parts)
}

function controlFrame(encoder: FrameEncoder, rnd: () => number): Buffer {
  const kind = Math.floor(rnd() * 3)
  if (kind === 0)
    return encoder.hello({
      app: 'app',
      source: 'src',
      pid: 42,
      hostname: 'h',
      protocol: 1,
      transport: 'shm',
      capabilities: ['level-control'],
      startTime: 1_700_000_000_000_000_000n,
    })
  if (kind === 1) return encoder.heartbeat({ now: 1n, next: 2n, lastSeq: 3 })
  return encoder.goodbye({ lastSeq: 9, dropped: 1 })
}

const writers = new Map<string, EntryFrameWriter>()

/** The frame the logger's writer makes of this entry (its fields as JSON text, no bindings). */
export function writerFrame(entry: LogEntry): Buffer {
  const key = `${entry.app}\u0000${entry.pid}\u0000${entry.hostname}`
  let w = writers.get(key)
  if (w === undefined) {
    w = new EntryFrameWriter(entry.app, entry.pid, entry.hostname, { maxFrameSize: 16 * 1024 * 1024 })
    writers.set(key, w)
  }
  const ms = Number(entry.time / 1_000_000n) + Number(entry.time % 1_000_000n) / 1e6
  const start = w.entry(
    ms,
    entry.level,
    entry.msg,
    entry.source,
    entry.seq,
    EMPTY,
    undefined,
    entry.fields.json,
    0,
  )
  return Buffer.from(w.buf.subarray(start, w.pos))
}

const EMPTY = Buffer.alloc(0)
