// The hot-path codec of logkit.v1.Frame: protobuf wire format written and read
// by hand, straight between frames and LogEntry objects. protobufjs generates
// the reference codec from proto/logkit.proto (generated/logkit.js); the tests
// prove this one byte-compatible with it in both directions. Written by hand
// because it skips protobufjs's intermediate message objects and Long values.

import type { LogEntry } from './entry.js'
import { LogkitError } from './errors.js'
import { Fields } from './fields.js'
import {
  type BatchFrame,
  type DropReasons,
  type Drops,
  type Frame,
  type GoodbyeFrame,
  type HeartbeatFrame,
  type Hello,
  NO_DROP_REASONS,
  NO_DROPS,
} from './frame.js'
import { levelToSeverity, severityToLevel } from './levels.js'

// Wire types.
const VARINT = 0
const FIXED64 = 1
const LEN = 2
const FIXED32 = 5

/**
 * What the encoder needs of an entry: a LogEntry, or the same with fields as
 * JSON text and, from a producer's clock, time as fractional milliseconds
 * since the epoch (written as nanoseconds without going through a BigInt).
 */
export type EncodableEntry = Omit<LogEntry, 'fields' | 'time'> & {
  readonly fields: Fields | string
  readonly time: bigint | number
}

/**
 * Writes protobuf into one growing buffer that is reused from call to call.
 * The bytes returned are a view, valid until the writer's next use.
 */
export class ProtoWriter {
  buf: Buffer
  pos = 0

  constructor(initialSize = 4096) {
    this.buf = Buffer.allocUnsafe(initialSize)
  }

  reset(at = 0): void {
    this.pos = at
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  varint(value: number): void {
    this.ensure(10)
    this.pos = putVarint(this.buf, this.pos, value)
  }

  uintField(tag: number, value: number): void {
    if (value === 0) return
    this.ensure(11)
    this.buf[this.pos++] = tag
    this.varint(value)
  }

  /** Fractional ms since the epoch → fixed64 nanoseconds, with number arithmetic only. */
  msTimeField(tag: number, ms: number): void {
    this.ensure(9)
    this.buf[this.pos++] = tag
    writeMsTime(this.buf, this.pos, ms)
    this.pos += 8
  }

  fixed64Field(tag: number, value: bigint): void {
    if (value === 0n) return
    this.ensure(9)
    this.buf[this.pos++] = tag
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, value), this.pos)
    this.pos += 8
  }

  stringField(tag: number, value: string, always = false): void {
    const n = value.length
    if (n === 0 && !always) return
    // A UTF-16 unit takes at most 3 UTF-8 bytes: short strings get a one-byte
    // length without measuring them first.
    if (n < 43) {
      this.ensure(2 + n * 3)
      const buf = this.buf
      buf[this.pos++] = tag
      const at = this.pos++
      // ASCII is copied by hand: cheaper than a call into Buffer#write for short text.
      let p = this.pos
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i)
        if (c > 127) {
          p = this.pos + buf.write(value, this.pos)
          break
        }
        buf[p++] = c
      }
      buf[at] = p - this.pos
      this.pos = p
      return
    }
    const bytes = Buffer.byteLength(value)
    this.ensure(11 + bytes)
    this.buf[this.pos++] = tag
    this.varint(bytes)
    this.pos += this.buf.write(value, this.pos)
  }

  /**
   * Fields 5–8 of an entry (app, source, pid, hostname), which a producer
   * repeats on every entry: encoded once, then copied while they stay the same.
   */
  identity(app: string, source: string, pid: number, hostname: string): void {
    const cache = this.#identity
    if (
      cache === undefined ||
      cache.app !== app ||
      cache.source !== source ||
      cache.pid !== pid ||
      cache.hostname !== hostname
    ) {
      const start = this.pos
      this.stringField(0x2a, app)
      this.stringField(0x32, source)
      this.uintField(0x38, pid)
      this.stringField(0x42, hostname)
      this.#identity = { app, source, pid, hostname, bytes: Buffer.from(this.buf.subarray(start, this.pos)) }
      return
    }
    const bytes = cache.bytes
    this.ensure(bytes.length)
    const buf = this.buf
    let p = this.pos
    for (let i = 0; i < bytes.length; i++) buf[p++] = bytes[i] as number
    this.pos = p
  }

  #identity: { app: string; source: string; pid: number; hostname: string; bytes: Buffer } | undefined

  /** Start a length-delimited submessage; returns the mark to hand to `end`. */
  begin(tag: number): number {
    this.ensure(3)
    this.buf[this.pos++] = tag
    const mark = this.pos
    this.pos += 2 // room for a length below 16384; `end` shifts when it needs more or less
    return mark
  }

  end(mark: number): void {
    const length = this.pos - mark - 2
    const size = varintSize(length)
    if (size !== 2) {
      this.ensure(size)
      this.buf.copyWithin(mark + size, mark + 2, this.pos)
      this.pos += size - 2
    }
    putVarint(this.buf, mark, length)
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.pos)
  }
}

/** Fractional ms since the epoch → fixed64 nanoseconds at `at`, with number arithmetic only. */
export function writeMsTime(buf: Buffer, at: number, ms: number): void {
  const whole = Math.floor(ms)
  const sub = Math.floor((ms - whole) * 1e6)
  // ns = whole × 10⁶ + sub, computed in two halves that stay below 2⁵³:
  // whole = hi × 2²⁰ + lo, so ns = (hi × 10⁶) × 2²⁰ + (lo × 10⁶ + sub).
  const lo = whole % 1048576
  const a = ((whole - lo) / 1048576) * 1e6
  const b = lo * 1e6 + sub
  const aLow = a % 4096
  const bLow = b % 4294967296
  const lowSum = aLow * 1048576 + bLow
  const low = lowSum % 4294967296
  const high = (a - aLow) / 4096 + (b - bLow) / 4294967296 + (lowSum - low) / 4294967296
  buf.writeUInt32LE(low, at)
  buf.writeUInt32LE(high, at + 4)
}

/** Writes `value` as a varint at `at` (room assumed); returns the position after it. */
export function putVarint(buf: Buffer, at: number, value: number): number {
  let pos = at
  let v = value
  if (v <= 0x7fffffff) {
    // The common case in 32-bit integer arithmetic.
    while (v > 127) {
      buf[pos++] = (v & 127) | 128
      v >>>= 7
    }
    buf[pos++] = v
    return pos
  }
  while (v > 127) {
    buf[pos++] = (v % 128) | 128
    v = Math.floor(v / 128)
  }
  buf[pos++] = v
  return pos
}

/** Characters above which putUtf8 hands the text to the native encoder. */
const NATIVE_UTF8_FROM = 48

/** text[from, to) as UTF-8 at `at` (room for 3 bytes per unit is the caller's); returns the end. */
export function putUtf8(buf: Buffer, at: number, text: string, from: number, to: number): number {
  // A long run (a logged line's members) costs less through the native encoder than char by char.
  if (to - from > NATIVE_UTF8_FROM) return at + buf.write(text.slice(from, to), at)
  let p = at
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    // ASCII byte by byte; the rest (rare in logs) by the native encoder.
    if (c > 127) return p + buf.write(text.slice(i, to), p)
    buf[p++] = c
  }
  return p
}

/**
 * A safe integer in decimal (as String and JSON.stringify write it; -0 as 0)
 * at `at`, room for 17 bytes being the caller's; returns the end. In 32-bit
 * arithmetic: a double's % is a call into C, and a time in ms has 13 digits.
 */
export function putInteger(buf: Buffer, at: number, v: number): number {
  let p = at
  let n = v
  if (n < 0) {
    buf[p++] = 0x2d
    n = -n
  }
  if (n < 1e9) return putDigits(buf, p, n, 0)
  const high = Math.floor(n / 1e9)
  return putDigits(buf, putDigits(buf, p, high, 0), n - high * 1e9, 9)
}

/** n (below 10⁹) in decimal, padded with zeros to `width`; returns the end. */
function putDigits(buf: Buffer, at: number, n: number, width: number): number {
  let v = n | 0
  let count = 1
  for (let t = 10; t <= v; t *= 10) count++
  if (count < width) count = width
  const end = at + count
  let p = end
  for (let i = 0; i < count; i++) {
    const q = (v / 10) | 0
    buf[--p] = 0x30 + (v - q * 10)
    v = q
  }
  return end
}

/** `bytes` copied to `at`; returns the end. */
export function putBytes(buf: Buffer, at: number, bytes: Buffer): number {
  // A native copy has a fixed cost that a byte loop beats only for a few bytes.
  if (bytes.length > 16) {
    buf.set(bytes, at)
    return at + bytes.length
  }
  let p = at
  for (let i = 0; i < bytes.length; i++) buf[p++] = bytes[i] as number
  return p
}

export function varintSize(value: number): number {
  if (value <= 127) return 1
  if (value < 0x4000) return 2
  if (value < 0x200000) return 3
  let size = 1
  let v = value
  while (v > 127) {
    v = Math.floor(v / 128)
    size++
  }
  return size
}

export function writeEntry(w: ProtoWriter, entry: EncodableEntry): void {
  if (typeof entry.time === 'number') w.msTimeField(0x09, entry.time)
  else w.fixed64Field(0x09, entry.time)
  w.uintField(0x10, entry.level)
  w.uintField(0x18, levelToSeverity(entry.level))
  w.stringField(0x22, entry.msg)
  w.identity(entry.app, entry.source, entry.pid, entry.hostname)
  w.uintField(0x48, entry.seq)
  const fields =
    typeof entry.fields === 'string' ? entry.fields : entry.fields.isEmpty ? '' : entry.fields.json
  if (fields !== '' && fields !== '{}') w.stringField(0x52, fields)
  if (entry.traceId) w.stringField(0x5a, entry.traceId)
  if (entry.spanId) w.stringField(0x62, entry.spanId)
}

/** Frame { batch: { entries, dropped, dropped_too_large, dropped_unserializable } } */
export function writeBatch(
  w: ProtoWriter,
  entries: readonly EncodableEntry[],
  dropped = 0,
  reasons: DropReasons = NO_DROP_REASONS,
): void {
  const batch = w.begin(0x0a)
  for (const entry of entries) {
    const mark = w.begin(0x0a)
    writeEntry(w, entry)
    w.end(mark)
  }
  writeDrops(w, dropped, reasons)
  w.end(batch)
}

/** Frame { batch: { entries: [entry], dropped, … } }: the producer's per-call frame. */
export function writeSingleEntryBatch(
  w: ProtoWriter,
  entry: EncodableEntry,
  dropped = 0,
  reasons: DropReasons = NO_DROP_REASONS,
): void {
  const batch = w.begin(0x0a)
  const mark = w.begin(0x0a)
  writeEntry(w, entry)
  w.end(mark)
  writeDrops(w, dropped, reasons)
  w.end(batch)
}

/** Batch and Goodbye alike: fields 2, 3 and 4. */
function writeDrops(w: ProtoWriter, dropped: number, reasons: DropReasons): void {
  w.uintField(0x10, dropped)
  w.uintField(0x18, reasons.droppedTooLarge)
  w.uintField(0x20, reasons.droppedUnserializable)
}

export function writeHello(w: ProtoWriter, hello: Hello): void {
  const mark = w.begin(0x12)
  w.stringField(0x0a, hello.app)
  w.stringField(0x12, hello.source)
  w.uintField(0x18, hello.pid)
  w.stringField(0x22, hello.hostname)
  w.uintField(0x28, hello.protocol)
  w.stringField(0x32, hello.transport)
  for (const capability of hello.capabilities) w.stringField(0x3a, capability, true)
  w.fixed64Field(0x41, hello.startTime)
  w.end(mark)
}

export function writeHeartbeat(w: ProtoWriter, heartbeat: Omit<HeartbeatFrame, 'type'>): void {
  const mark = w.begin(0x1a)
  w.fixed64Field(0x09, heartbeat.now)
  w.fixed64Field(0x11, heartbeat.next)
  w.uintField(0x18, heartbeat.lastSeq)
  w.end(mark)
}

/** A goodbye to encode: its drop reasons may be left out (none). */
export type GoodbyeInit = Pick<GoodbyeFrame, 'lastSeq' | 'dropped'> & Partial<DropReasons>

export function writeGoodbye(w: ProtoWriter, goodbye: GoodbyeInit): void {
  const mark = w.begin(0x22)
  w.uintField(0x08, goodbye.lastSeq)
  writeDrops(w, goodbye.dropped, {
    droppedTooLarge: goodbye.droppedTooLarge ?? 0,
    droppedUnserializable: goodbye.droppedUnserializable ?? 0,
  })
  w.end(mark)
}

/** Thrown inside the decoder only; the framing layer turns it into a counted skip. */
function malformed(what: string): never {
  throw new LogkitError('LOGKIT_ERR_FRAME_MALFORMED', `malformed frame: ${what}`)
}

/** Node's Buffer has a fast utf8Slice(start, end) that toString() wraps with argument checks. */
interface Utf8Sliceable {
  utf8Slice(start: number, end: number): string
}

/** The last string decoded for one field, and its bytes (a fixed buffer: keeping them allocates nothing). */
interface InternSlot {
  readonly bytes: Buffer
  length: number
  value: string
}

const INTERN_MAX = 64
const internSlot = (): InternSlot => ({ bytes: Buffer.alloc(INTERN_MAX), length: 0, value: '' })

const interned = {
  app: internSlot(),
  source: internSlot(),
  hostname: internSlot(),
  msg: internSlot(),
}

/** Reads protobuf from a buffer range, bounds-checked. */
let lastHigh = -1
let lastHighBig = 0n

class ProtoReader {
  constructor(
    public buf: Buffer,
    public pos: number,
    public limit: number,
  ) {}

  varint(): number {
    const buf = this.buf
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.limit) malformed('truncated varint')
      const byte = buf[this.pos++] as number
      result += (byte & 127) * scale
      if (byte < 128) return result
      scale *= 128
    }
    return malformed('varint longer than 10 bytes')
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.limit) malformed('truncated fixed64')
    const buf = this.buf
    const p = this.pos
    this.pos += 8
    const low =
      ((buf[p] as number) | ((buf[p + 1] as number) << 8) | ((buf[p + 2] as number) << 16)) +
      (buf[p + 3] as number) * 0x1000000
    const high =
      ((buf[p + 4] as number) | ((buf[p + 5] as number) << 8) | ((buf[p + 6] as number) << 16)) +
      (buf[p + 7] as number) * 0x1000000
    // Times of one run share their high word for seconds: its BigInt is
    // made once, and a time costs two BigInts instead of four.
    if (high !== lastHigh) {
      lastHigh = high
      lastHighBig = BigInt(high) << 32n
    }
    return lastHighBig + BigInt(low)
  }

  /** Start and end of a length-delimited field's content. */
  span(): number {
    const length = this.varint()
    const start = this.pos
    if (start + length > this.limit) malformed('length past the end of the frame')
    this.pos = start + length
    return start
  }

  string(): string {
    const start = this.span()
    return (this.buf as unknown as Utf8Sliceable).utf8Slice(start, this.pos)
  }

  /**
   * A string that tends to repeat from entry to entry (app, source, hostname,
   * often msg): when its bytes equal the last ones seen in `slot`, the same
   * string is returned without decoding or allocating.
   */
  interned(slot: InternSlot): string {
    const start = this.span()
    const end = this.pos
    const length = end - start
    const buf = this.buf
    const last = slot.bytes
    if (length === slot.length) {
      let i = 0
      while (i < length && buf[start + i] === last[i]) i++
      if (i === length) return slot.value
    }
    const value = (buf as unknown as Utf8Sliceable).utf8Slice(start, end)
    if (length <= INTERN_MAX) {
      for (let i = 0; i < length; i++) last[i] = buf[start + i] as number
      slot.length = length
      slot.value = value
    }
    return value
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint()
        return
      case FIXED64:
        if (this.pos + 8 > this.limit) malformed('truncated fixed64')
        this.pos += 8
        return
      case LEN:
        this.span()
        return
      case FIXED32:
        if (this.pos + 4 > this.limit) malformed('truncated fixed32')
        this.pos += 4
        return
      default:
        malformed(`wire type ${wireType}`)
    }
  }
}

function readEntry(r: ProtoReader): LogEntry {
  let time = 0n
  let level = 0
  let severity = 0
  let msg = ''
  let app = ''
  let source = ''
  let pid = 0
  let hostname = ''
  let seq = 0
  let fields = Fields.empty
  let traceId: string | undefined
  let spanId: string | undefined
  while (r.pos < r.limit) {
    const tag = r.varint()
    switch (tag) {
      case 0x09:
        time = r.fixed64()
        break
      case 0x10:
        level = r.varint()
        break
      case 0x18:
        severity = r.varint()
        break
      case 0x22:
        msg = r.interned(interned.msg)
        break
      case 0x2a:
        app = r.interned(interned.app)
        break
      case 0x32:
        source = r.interned(interned.source)
        break
      case 0x38:
        pid = r.varint()
        break
      case 0x42:
        hostname = r.interned(interned.hostname)
        break
      case 0x48:
        seq = r.varint()
        break
      case 0x52:
        fields = Fields.fromJSON(r.string())
        break
      case 0x5a:
        traceId = r.string()
        break
      case 0x62:
        spanId = r.string()
        break
      default:
        r.skip(tag & 7)
    }
  }
  if (level === 0 && severity !== 0) level = severityToLevel(severity)
  const entry: { -readonly [K in keyof LogEntry]: LogEntry[K] } = {
    time,
    level,
    msg,
    app,
    source,
    pid,
    hostname,
    seq,
    fields,
    // Present from the start: the runtime's tagging is then a store, not a
    // new shape and a property array per entry.
    ack: undefined,
  }
  if (traceId) entry.traceId = traceId
  if (spanId) entry.spanId = spanId
  return entry
}

/** Reads the submessage at the reader's position into `read`, then moves past it. */
function sub<T>(r: ProtoReader, read: (inner: ProtoReader) => T): T {
  const start = r.span()
  const end = r.pos
  const outer = r.limit
  // The same reader, narrowed to the submessage: no allocation per entry.
  r.pos = start
  r.limit = end
  try {
    return read(r)
  } finally {
    r.pos = end
    r.limit = outer
  }
}

function readBatch(r: ProtoReader): BatchFrame {
  // Most frames hold one entry: its array is made to size, not grown.
  let entries: LogEntry[] | undefined
  let dropped = 0
  let droppedTooLarge = 0
  let droppedUnserializable = 0
  while (r.pos < r.limit) {
    const tag = r.varint()
    if (tag === 0x0a) {
      const entry = sub(r, readEntry)
      if (entries === undefined) entries = [entry]
      else entries.push(entry)
    } else if (tag === 0x10) dropped = r.varint()
    else if (tag === 0x18) droppedTooLarge = r.varint()
    else if (tag === 0x20) droppedUnserializable = r.varint()
    else r.skip(tag & 7)
  }
  return { type: 'batch', entries: entries ?? [], dropped, droppedTooLarge, droppedUnserializable }
}

/** A batch's drop counts, its entries skipped. */
function readBatchDrops(r: ProtoReader): Drops {
  let dropped = 0
  let droppedTooLarge = 0
  let droppedUnserializable = 0
  while (r.pos < r.limit) {
    const tag = r.varint()
    if (tag === 0x10) dropped = r.varint()
    else if (tag === 0x18) droppedTooLarge = r.varint()
    else if (tag === 0x20) droppedUnserializable = r.varint()
    else r.skip(tag & 7)
  }
  return { dropped, droppedTooLarge, droppedUnserializable }
}

function readHello(r: ProtoReader): Frame {
  let app = ''
  let source = ''
  let pid = 0
  let hostname = ''
  let protocol = 0
  let transport = ''
  const capabilities: string[] = []
  let startTime = 0n
  while (r.pos < r.limit) {
    const tag = r.varint()
    if (tag === 0x0a) app = r.string()
    else if (tag === 0x12) source = r.string()
    else if (tag === 0x18) pid = r.varint()
    else if (tag === 0x22) hostname = r.string()
    else if (tag === 0x28) protocol = r.varint()
    else if (tag === 0x32) transport = r.string()
    else if (tag === 0x3a) capabilities.push(r.string())
    else if (tag === 0x41) startTime = r.fixed64()
    else r.skip(tag & 7)
  }
  return { type: 'hello', app, source, pid, hostname, protocol, transport, capabilities, startTime }
}

function readHeartbeat(r: ProtoReader): Frame {
  let now = 0n
  let next = 0n
  let lastSeq = 0
  while (r.pos < r.limit) {
    const tag = r.varint()
    if (tag === 0x09) now = r.fixed64()
    else if (tag === 0x11) next = r.fixed64()
    else if (tag === 0x18) lastSeq = r.varint()
    else r.skip(tag & 7)
  }
  return { type: 'heartbeat', now, next, lastSeq }
}

function readGoodbye(r: ProtoReader): Frame {
  let lastSeq = 0
  let dropped = 0
  let droppedTooLarge = 0
  let droppedUnserializable = 0
  while (r.pos < r.limit) {
    const tag = r.varint()
    if (tag === 0x08) lastSeq = r.varint()
    else if (tag === 0x10) dropped = r.varint()
    else if (tag === 0x18) droppedTooLarge = r.varint()
    else if (tag === 0x20) droppedUnserializable = r.varint()
    else r.skip(tag & 7)
  }
  return { type: 'goodbye', lastSeq, dropped, droppedTooLarge, droppedUnserializable }
}

const NO_BYTES = Buffer.alloc(0)
const entryReader = new ProtoReader(NO_BYTES, 0, 0)
/**
 * Decode one LogEntry message (a batch's entry, without its tag and length)
 * from `buf[start, end)`, as decodeFrame decodes the entries of a batch.
 * Throws LOGKIT_ERR_FRAME_MALFORMED when its bytes are not a valid entry.
 */
export function decodeEntry(buf: Buffer, start: number, end: number): LogEntry {
  const r = entryReader
  r.buf = buf
  r.pos = start
  r.limit = end
  try {
    return readEntry(r)
  } finally {
    r.buf = NO_BYTES
  }
}

const frameReader = new ProtoReader(NO_BYTES, 0, 0)
const UNKNOWN_FRAME: Frame = Object.freeze({ type: 'unknown' })

/**
 * Decode one Frame message from `buf[start, end)`. Strings are copied out, so
 * the buffer may be reused as soon as this returns. Unknown fields are skipped;
 * a structurally broken payload throws LOGKIT_ERR_FRAME_MALFORMED.
 */
export function decodeFrame(buf: Buffer, start = 0, end = buf.length): Frame {
  // One reader for every call (decoding never re-enters itself).
  const r = frameReader
  r.buf = buf
  r.pos = start
  r.limit = end
  let frame: Frame = UNKNOWN_FRAME
  try {
    while (r.pos < r.limit) {
      const tag = r.varint()
      // oneof: the last body present wins, as protobuf specifies.
      if (tag === 0x0a) frame = sub(r, readBatch)
      else if (tag === 0x12) frame = sub(r, readHello)
      else if (tag === 0x1a) frame = sub(r, readHeartbeat)
      else if (tag === 0x22) frame = sub(r, readGoodbye)
      else r.skip(tag & 7)
    }
  } finally {
    // The reader does not keep the caller's buffer (a ring, a pipe chunk) alive.
    r.buf = NO_BYTES
  }
  return frame
}

/**
 * The drop counts of the batch frame whose payload is buf[start, end),
 * without decoding its entries: the byte path reads them only from a batch
 * that announces drops. Zeros for any other frame.
 */
export function decodeBatchDrops(buf: Buffer, start: number, end: number): Drops {
  const r = frameReader
  r.buf = buf
  r.pos = start
  r.limit = end
  let drops: Drops = NO_DROPS
  try {
    while (r.pos < r.limit) {
      const tag = r.varint()
      if (tag === 0x0a) drops = sub(r, readBatchDrops)
      else r.skip(tag & 7)
    }
  } finally {
    r.buf = NO_BYTES
  }
  return drops
}
