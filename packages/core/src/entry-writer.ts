// The producer's hot path: one log call → one whole frame, written in a single
// pass into a reused buffer. The caller's object is serialized straight into
// the frame as JSON bytes (no intermediate string), and the parts that repeat
// from call to call (level, message, identity, bindings) are copied from
// cached bytes. The frame is the same, byte for byte, as FrameEncoder.entry()
// gives for the same entry with its fields stringified (tested).
//
// Layout trick: the fields' JSON is written first, at an offset that leaves
// room for everything in front of it; once its length is known, the entry's
// other fields, the length prefixes and the frame header are written right to
// left in front of it. Nothing is moved or measured twice.

import { ProtoWriter, putBytes, putInteger, putUtf8, putVarint, varintSize, writeMsTime } from './codec.js'
import type { Drops } from './frame.js'
import { FRAME_FLAG_HASH, frameHash, viewOf } from './frame-check.js'
import {
  DEFAULT_MAX_FRAME_SIZE,
  FRAME_HEADER_SIZE,
  frameTooLarge,
  putUint32,
  writeFrameHeader,
} from './framing.js'
import { levelToSeverity } from './levels.js'
import { safeStringify } from './safe-json.js'
import { serializeError } from './serialize-error.js'
import { BATCH_DROPPED, BATCH_DROPPED_TOO_LARGE, BATCH_DROPPED_UNSERIALIZABLE } from './wire/tags.js'

/** Frame header + Frame.batch tag and length + Batch.entries tag and length (varints ≤ 5 bytes). */
const HEAD_ROOM = FRAME_HEADER_SIZE + 2 * 6
/** fixed64 time: tag + 8 bytes. */
const TIME_SIZE = 9
/** Room for the fields' tag and length varint. */
const FIELDS_HEAD_ROOM = 6

const hasOwn = Object.prototype.hasOwnProperty

interface Cached {
  key: unknown
  bytes: Buffer
}

/** A ProtoWriter (its growing buffer) that writes whole entry frames. */
export class EntryFrameWriter extends ProtoWriter {
  readonly maxFrameSize: number
  readonly #side = new ProtoWriter(256)
  readonly #levels = new Map<number, Buffer>()
  #msg: Cached = { key: undefined, bytes: Buffer.alloc(0) }
  #identity: Cached = { key: undefined, bytes: Buffer.alloc(0) }
  #viewed: Buffer | undefined
  #view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))

  constructor(
    readonly app: string,
    readonly pid: number,
    readonly hostname: string,
    { maxFrameSize = DEFAULT_MAX_FRAME_SIZE }: { maxFrameSize?: number } = {},
  ) {
    super(16 * 1024)
    this.maxFrameSize = maxFrameSize
  }

  /**
   * The frame of one entry: `bindings` (the members `"a":1,"b":2` as UTF-8
   * bytes, or empty) and then either the members of `obj` or those of the
   * JSON object text `json` make its fields; `json[from, to)` when given are
   * the members (`json` is then any text that holds them: a logged line).
   * `json` may be UTF-8 bytes, `from` and `to` then byte offsets.
   * The frame is `buf[start, pos)`, where start is what this returns; valid
   * until the next call. Throws LOGKIT_ERR_FRAME_TOO_LARGE.
   */
  entry(
    time: number,
    level: number,
    msg: string,
    source: string,
    seq: number,
    bindings: Buffer,
    obj: object | undefined,
    json: string | Buffer,
    drops: Drops,
    from = 1,
    to = json.length - 1,
  ): number {
    const msgBytes = this.#msgBytes(msg)
    const levelBytes = this.#levelBytes(level)
    const identity = this.#identityBytes(source)
    const seqSize = 1 + varintSize(seq)
    const prefix = TIME_SIZE + levelBytes.length + msgBytes.length + identity.length + seqSize
    const start = HEAD_ROOM + prefix + FIELDS_HEAD_ROOM
    this.pos = start

    // Fields: '{' bindings [','] members '}', or nothing when that is '{}'.
    this.#byte(0x7b)
    this.#copy(bindings)
    if (obj !== undefined) this.#members(obj, bindings.length > 0)
    else if (to > from) {
      if (bindings.length > 0) this.#byte(0x2c)
      if (typeof json === 'string') this.#text(json, from, to)
      else this.#range(json, from, to)
    }
    let q = start
    if (this.pos - start > 1) {
      this.#byte(0x7d)
      const length = this.pos - start
      q -= varintSize(length)
      putVarint(this.buf, q, length)
      this.buf[--q] = 0x52
    } else this.pos = start

    // The entry ends here; the batch's drop counts follow it.
    const entryEnd = this.pos
    if (drops.dropped > 0) this.#drops(drops)

    // In front of the fields: time, level, severity, msg, identity, seq.
    const buf = this.buf
    q -= prefix
    let p = q
    buf[p] = 0x09
    this.#time(buf, p + 1, time)
    p += TIME_SIZE
    p = this.#constantPart(buf, p, levelBytes, msgBytes, identity)
    buf[p++] = 0x48
    putVarint(buf, p, seq)

    // The entry inside a batch inside a frame.
    const entryLength = entryEnd - q
    q -= varintSize(entryLength)
    putVarint(buf, q, entryLength)
    buf[--q] = 0x0a
    const batchLength = this.pos - q
    q -= varintSize(batchLength)
    putVarint(buf, q, batchLength)
    buf[--q] = 0x0a
    const length = this.pos - q
    if (length > this.maxFrameSize) throw frameTooLarge(length, this.maxFrameSize)
    const end = this.pos
    // A DataView of the buffer (made again when it grew): the hash reads it a word at a time.
    if (this.#viewed !== buf) {
      this.#viewed = buf
      this.#view = viewOf(buf)
    }
    const hash = frameHash(this.#view, q, end)
    q -= FRAME_HEADER_SIZE
    writeFrameHeader(buf, q, length, hash, FRAME_FLAG_HASH)
    return q
  }

  /** The time as fixed64 ns; the whole millisecond's part is computed once per millisecond. */
  #time(buf: Buffer, at: number, ms: number): void {
    const whole = Math.floor(ms)
    if (whole !== this.#wholeMs) {
      writeMsTime(buf, at, whole)
      this.#wholeMs = whole
      this.#msLow = buf.readUInt32LE(at)
      this.#msHigh = buf.readUInt32LE(at + 4)
    }
    let low = this.#msLow + Math.floor((ms - whole) * 1e6)
    let high = this.#msHigh
    if (low >= 4294967296) {
      low -= 4294967296
      high++
    }
    putUint32(buf, at, low)
    putUint32(buf, at + 4, high)
  }

  #wholeMs = -1
  #msLow = 0
  #msHigh = 0

  /**
   * Level, message and identity at `at`. A logger mostly repeats the last
   * call's: the same cached byte objects land at the same place, where those
   * bytes still are (the fields, written after them, never reach back there,
   * and a grown buffer keeps everything in front of the fields), so they are
   * not copied again.
   */
  #constantPart(buf: Buffer, at: number, level: Buffer, msg: Buffer, identity: Buffer): number {
    const end = at + level.length + msg.length + identity.length
    if (
      at === this.#constantAt &&
      level === this.#lastLevel &&
      msg === this.#lastMsg &&
      identity === this.#lastIdentity
    )
      return end
    putBytes(buf, putBytes(buf, putBytes(buf, at, level), msg), identity)
    this.#constantAt = at
    this.#lastLevel = level
    this.#lastMsg = msg
    this.#lastIdentity = identity
    return end
  }

  #constantAt = -1
  #lastLevel: Buffer | undefined
  #lastMsg: Buffer | undefined
  #lastIdentity: Buffer | undefined

  #msgBytes(msg: string): Buffer {
    const cached = this.#msg
    if (cached.key === msg) return cached.bytes
    const w = this.#side
    w.reset()
    w.stringField(0x22, msg)
    this.#msg = { key: msg, bytes: Buffer.from(w.bytes()) }
    return this.#msg.bytes
  }

  #levelBytes(level: number): Buffer {
    let bytes = this.#levels.get(level)
    if (bytes === undefined) {
      const w = this.#side
      w.reset()
      w.uintField(0x10, level)
      w.uintField(0x18, levelToSeverity(level))
      bytes = Buffer.from(w.bytes())
      this.#levels.set(level, bytes)
    }
    return bytes
  }

  #identityBytes(source: string): Buffer {
    const cached = this.#identity
    if (cached.key === source) return cached.bytes
    const w = this.#side
    w.reset()
    w.identity(this.app, source, this.pid, this.hostname)
    this.#identity = { key: source, bytes: Buffer.from(w.bytes()) }
    return this.#identity.bytes
  }

  /** The batch's fields 2, 3 and 4 (each left out when 0), as codec's writeBatch writes them. */
  #drops(drops: Drops): void {
    this.ensure(33)
    const buf = this.buf
    this.pos = dropField(buf, this.pos, BATCH_DROPPED, drops.dropped)
    this.pos = dropField(buf, this.pos, BATCH_DROPPED_TOO_LARGE, drops.droppedTooLarge)
    this.pos = dropField(buf, this.pos, BATCH_DROPPED_UNSERIALIZABLE, drops.droppedUnserializable)
  }

  #byte(b: number): void {
    this.ensure(1)
    this.buf[this.pos++] = b
  }

  #copy(bytes: Buffer): void {
    this.ensure(bytes.length)
    this.pos = putBytes(this.buf, this.pos, bytes)
  }

  /** UTF-8 bytes[from, to), copied as they are. */
  #range(bytes: Buffer, from: number, to: number): void {
    this.ensure(to - from)
    this.pos += bytes.copy(this.buf, this.pos, from, to)
  }

  /** JSON text (already valid JSON) from `from` to `to`, as UTF-8. */
  #text(text: string, from: number, to: number): void {
    this.ensure((to - from) * 3)
    this.pos = putUtf8(this.buf, this.pos, text, from, to)
  }

  /** A JSON string literal of `s`, quotes included. */
  #string(s: string): void {
    const n = s.length
    this.ensure(n + 2)
    const buf = this.buf
    const start = this.pos
    let p = start
    buf[p++] = 0x22
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      // Printable ASCII other than '"' and '\' is itself; anything else is escaped by JSON.stringify.
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.pos = start
        const quoted = JSON.stringify(s)
        this.#text(quoted, 0, quoted.length)
        return
      }
      buf[p++] = c
    }
    buf[p++] = 0x22
    this.pos = p
  }

  #number(v: number): void {
    if (Number.isSafeInteger(v)) {
      this.ensure(17)
      this.pos = putInteger(this.buf, this.pos, v)
      return
    }
    const text = Number.isFinite(v) ? String(v) : 'null'
    this.#text(text, 0, text.length)
  }

  /**
   * The members of obj, as JSON.stringify writes them (own enumerable string
   * keys, undefined/function/symbol values left out, non-finite numbers as
   * null), with Errors serialized and BigInts as their decimal text.
   */
  #members(obj: object, comma: boolean): void {
    const record = obj as Record<string, unknown>
    if (typeof record['toJSON'] === 'function') {
      const json = safeStringify(obj)
      if (json !== undefined && json.length > 2 && json.charCodeAt(0) === 0x7b) {
        if (comma) this.#byte(0x2c)
        this.#text(json, 1, json.length - 1)
      }
      return
    }
    let first = !comma
    for (const key in record) {
      if (!hasOwn.call(record, key)) continue
      const v = record[key]
      const type = typeof v
      if (type === 'undefined' || type === 'function' || type === 'symbol') continue
      // Objects first, since a toJSON that gives undefined leaves the key out.
      const json = type === 'object' && v !== null ? memberJson(key, v as object, obj) : ''
      if (json === undefined) continue
      if (!first) this.#byte(0x2c)
      first = false
      this.#string(key)
      this.#byte(0x3a)
      if (type === 'string') this.#string(v as string)
      else if (type === 'number') this.#number(v as number)
      else if (type === 'boolean') this.#text(v ? 'true' : 'false', 0, v ? 4 : 5)
      else if (type === 'bigint') this.#string((v as bigint).toString())
      else if (v === null) this.#text('null', 0, 4)
      else this.#text(json, 0, json.length)
    }
  }
}

/** A member's object value as JSON.stringify writes it: toJSON called with its key, Errors serialized. */
function memberJson(key: string, v: object, holder: object): string {
  if (v instanceof Error) return safeStringify(serializeError(v), holder)
  const toJSON = (v as { toJSON?: unknown }).toJSON
  return safeStringify(typeof toJSON === 'function' ? toJSON.call(v, key) : v, holder)
}

function dropField(buf: Buffer, at: number, tag: number, count: number): number {
  if (count === 0) return at
  buf[at] = tag
  return putVarint(buf, at + 1, count)
}
