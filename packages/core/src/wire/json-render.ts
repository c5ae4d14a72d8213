// pino NDJSON lines rendered by copying bytes from indexed frames
// (entry-index.ts) into one output buffer: the bytes of formatJson(entry) +
// '\n' for the entry decodeFrame would give, the fields check and the
// `logkit_invalid_fields` fallback of JsonLineWriter included (tested over
// thousands of random entries and hostile frames). No entry is decoded:
//
//   {"level":  digits  ,"time": digits ,"pid": digits  ,"hostname":…,"app":…,"name":…  ,"seq": digits  …fields  ,"msg": "escaped message"}\n
//              written            from the columns      cached while the raw bytes repeat                    raw copy after a byte scan
//
// - Identity (hostname, app, source) is escaped once and its rendered bytes
//   kept while the raw bytes of the next entries are the same (compared,
//   never trusted by position: a ring's bytes are rewritten).
// - Strings are escaped from their UTF-8 bytes as JSON.stringify escapes the
//   decoded text: `"` `\` and the controls below 0x20, nothing else. Bytes
//   that are not valid UTF-8 take a slow path per string (decode, stringify,
//   encode), which gives exactly what decoding gives.
// - The fields are copied raw when json-scan.ts finds them one JSON object
//   (what json-check.ts finds for the text); otherwise they are written as
//   the quoted string `logkit_invalid_fields` and counted in invalidFields.
// - Entries the index marked invalid render nothing.
//
// Output: the renderer owns one buffer (1 MiB unless told) and renders as
// many whole lines as fit, returning where it stopped; the caller writes
// bytes() and calls reset() before the next call. Lines are never split and
// never moved: memory stays flat however large a batch is (a sink renders a
// ring region in chunks), and a full buffer costs no copy of pending bytes
// as growing would. Only a line that cannot fit even in an empty buffer
// (an entry near the frame limit) makes the buffer grow, so that each call
// makes progress. What bytes() returned is valid until the next reset().
//
// Hot paths keep the buffers and the write position in locals and write
// short runs byte by byte; Buffer#copy (a native call) is kept for runs
// longer than COPY_NATIVE_MIN. Nothing is allocated per entry while the
// identity repeats, the message is valid UTF-8 and the fields are one object.

import { putInteger } from '../codec.js'
import { numberJson } from '../format/json.js'
import { LINE_KEYS } from '../format/json-bytes.js'
import { JSON_EMPTY_OBJECT, JSON_INVALID, JSON_OBJECT, jsonObjectShape } from '../format/json-check.js'
import {
  type EntryIndex,
  SPAN_APP,
  SPAN_ENTRY,
  SPAN_FIELDS,
  SPAN_HOSTNAME,
  SPAN_MESSAGE,
  SPAN_SOURCE,
  SPAN_SPAN_ID,
  SPAN_STRIDE,
  SPAN_TRACE_ID,
} from './entry-index.js'
import { scanJsonObject, utf8SequenceLength } from './json-scan.js'
import { type WireImplementation, type WireNative, wireFor } from './native.js'

/** Runs at least this long are copied with Buffer#copy; shorter ones byte by byte. */
const COPY_NATIVE_MIN = 64
/**
 * Room asked for a line: this much for the keys and four numbers (each at
 * most 25 characters as numberJson writes it), plus 6 bytes per byte of the
 * entry (the most a byte becomes: a control is `\u00xx`, an invalid byte
 * U+FFFD's 3 bytes), which covers every string of it.
 */
const LINE_FIXED_ROOM = 320
const ROOM_PER_BYTE = 6
/** Identity bytes (raw and rendered) kept for reuse at most; longer identities are rendered each time. */
const IDENTITY_CACHE = 1024

const { level: LEVEL, time: TIME, pid: PID, hostname: HOSTNAME, app: APP, name: NAME } = LINE_KEYS
const { seq: SEQ, traceId: TRACE_ID, spanId: SPAN_ID, msg: MSG, invalidFields: INVALID_FIELDS } = LINE_KEYS

/** JSON.stringify's escape for each byte below 0x20 and for `"` and `\`, as bytes; undefined for the rest. */
const ESCAPES: (Buffer | undefined)[] = []
for (let c = 0; c < 0x80; c++) {
  const s = String.fromCharCode(c)
  const json = JSON.stringify(s)
  ESCAPES.push(json.length > 3 ? Buffer.from(json.slice(1, -1), 'latin1') : undefined)
}

/** bytes at out[p] (room assured); returns the end. */
function put(out: Buffer, p: number, bytes: Buffer): number {
  const n = bytes.length
  if (n >= COPY_NATIVE_MIN) return p + bytes.copy(out, p)
  let q = p
  for (let k = 0; k < n; k++) out[q++] = bytes[k] as number
  return q
}

/** src[s, e) at out[p] (room assured); returns the end. */
function copySpan(out: Buffer, p: number, src: Buffer, s: number, e: number): number {
  if (e - s >= COPY_NATIVE_MIN) return p + src.copy(out, p, s, e)
  let q = p
  for (let k = s; k < e; k++) out[q++] = src[k] as number
  return q
}

/** A number as JsonLineWriter writes it: digits for a safe integer, numberJson's text otherwise (room assured). */
function putNumber(out: Buffer, p: number, v: number): number {
  if (Number.isSafeInteger(v)) return putInteger(out, p, v)
  return p + out.write(numberJson(v), p, 'latin1')
}

/**
 * The JSON string of the UTF-8 bytes src[s, e), quotes included, at out[p]
 * (room assured); returns the end, or -1 (nothing meaningful written) when
 * the bytes are not valid UTF-8.
 */
function putJsonString(out: Buffer, p: number, src: Buffer, s: number, e: number): number {
  let q = p
  out[q++] = 0x22
  let i = s
  while (i < e) {
    // A run of bytes that stand for themselves, then the byte that ends it.
    let j = i
    let c = 0
    while (j < e) {
      c = src[j] as number
      if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7f) break
      j++
    }
    if (j - i >= COPY_NATIVE_MIN) q += src.copy(out, q, i, j)
    else for (let k = i; k < j; k++) out[q++] = src[k] as number
    if (j === e) break
    if (c < 0x80) {
      q = put(out, q, ESCAPES[c] as Buffer)
      i = j + 1
    } else {
      const n = utf8SequenceLength(src, j, e)
      if (n === 0) return -1
      for (let k = 0; k < n; k++) out[q++] = src[j + k] as number
      i = j + n
    }
  }
  out[q++] = 0x22
  return q
}

/** The JSON string of src[s, e) as JSON.stringify(decoded text) gives it, whatever the bytes (room assured). */
function putQuoted(out: Buffer, p: number, src: Buffer, s: number, e: number): number {
  const q = putJsonString(out, p, src, s, e)
  if (q >= 0) return q
  // Not valid UTF-8: what decodeFrame and JsonLineWriter make of it.
  return p + out.write(JSON.stringify(src.toString('utf8', s, e)), p)
}

/** True when a[as, as + n) and b[bs, bs + n) hold the same bytes. */
function sameBytes(a: Buffer, as: number, b: Buffer, bs: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[as + k] !== b[bs + k]) return false
  return true
}

// State slots shared with the native loop (wire.cc): the output position, the
// identity cache's lengths, and where a call stopped. A host length of -1
// means nothing is cached.
const STATE_POS = 0
const STATE_HOST_LENGTH = 1
const STATE_APP_LENGTH = 2
const STATE_SOURCE_LENGTH = 3
const STATE_IDENTITY_LENGTH = 4
const STATE_AT = 5
// What the native loop answers.
const RENDERED = 0
const FULL = 1
const GROW = 2

export interface JsonRendererOptions {
  /** Bytes of the output buffer (the most one call renders, unless one line alone is larger). Default 1 MiB. */
  readonly size?: number
  /** Whose loop renders: the addon's ('native', an error when it is missing) or the TypeScript's; default: the addon when installed (native.ts). */
  readonly implementation?: WireImplementation
}

export class JsonRenderer {
  /** The output: lines are out[0, pos). */
  out: Buffer
  pos = 0
  /**
   * Entries rendered since this renderer was made whose fields were not one
   * JSON object (written as the string `logkit_invalid_fields`): a sink
   * reports the increase, as with JsonLineWriter.
   */
  invalidFields = 0

  // The identity last rendered: its raw hostname, app and source bytes one
  // after the other in identityKey, and what they render as; their lengths in
  // #state, where the native loop reads and keeps them too.
  readonly #identityKey = Buffer.alloc(IDENTITY_CACHE)
  readonly #identity = Buffer.alloc(IDENTITY_CACHE)
  readonly #state = new Float64Array([0, -1, -1, -1, 0, 0])
  readonly #native: WireNative | undefined

  constructor({ size = 1024 * 1024, implementation }: JsonRendererOptions = {}) {
    this.out = Buffer.allocUnsafe(size)
    this.#native = wireFor(implementation)
  }

  /** Whose loop this renderer runs. */
  get implementation(): WireImplementation {
    return this.#native === undefined ? 'js' : 'native'
  }

  /** The lines rendered since the last reset(); valid until the next reset(). */
  bytes(): Buffer {
    return this.out.subarray(0, this.pos)
  }

  /** Starts the next chunk at the beginning of the buffer (what bytes() returned may be overwritten). */
  reset(): void {
    this.pos = 0
  }

  /**
   * Renders the valid entries among from … to-1 of `index`, in order, as many
   * as fit. Returns the first entry not rendered: `to` when all were.
   */
  render(index: EntryIndex, from = 0, to: number = index.entries): number {
    if (this.#native !== undefined) return this.#renderNative(this.#native, index, undefined, from, to)
    const valid = index.valid
    for (let i = from; i < to; i++) {
      if (valid[i] === 0) continue
      if (!this.#room(index, i)) return i
      this.#line(index, i)
    }
    return to
  }

  /**
   * Renders the entries selection[from … to-1] (entry numbers of `index`, in
   * the order given; invalid ones render nothing), as many as fit. Returns
   * the position in `selection` of the first one not rendered: `to` when all were.
   */
  renderSelection(index: EntryIndex, selection: Int32Array, from = 0, to: number = selection.length): number {
    if (this.#native !== undefined) return this.#renderNative(this.#native, index, selection, from, to)
    const valid = index.valid
    const entries = index.entries
    for (let k = from; k < to; k++) {
      const i = selection[k] as number
      if (i < 0 || i >= entries || valid[i] === 0) continue
      if (!this.#room(index, i)) return k
      this.#line(index, i)
    }
    return to
  }

  /**
   * render() / renderSelection() in the addon. It stops at a line it leaves
   * to the TypeScript (a number above 2^53, bytes that are not UTF-8, fields
   * that are not one object: #line writes it, counts included) and at a line
   * that cannot fit even alone (#room grows the buffer), and goes on after.
   */
  #renderNative(
    native: WireNative,
    index: EntryIndex,
    selection: Int32Array | undefined,
    from: number,
    to: number,
  ): number {
    const state = this.#state
    let k = from
    for (;;) {
      state[STATE_POS] = this.pos
      const status = native.render(
        index.entryBlock,
        index.capacity,
        index.entries,
        index.buf,
        this.out,
        k,
        to,
        selection,
        this.#identityKey,
        this.#identity,
        state,
      )
      this.pos = state[STATE_POS] as number
      k = state[STATE_AT] as number
      if (status === RENDERED) return to
      if (status === FULL) return k
      const i = selection === undefined ? k : (selection[k] as number)
      if (!this.#room(index, i)) return k
      if (status === GROW) continue
      this.#line(index, i)
      k++
    }
  }

  /** Whether entry i's line surely fits; grows the buffer when it cannot fit even alone. */
  #room(index: EntryIndex, i: number): boolean {
    const row = i * SPAN_STRIDE + SPAN_ENTRY
    const need =
      LINE_FIXED_ROOM + ROOM_PER_BYTE * ((index.spans[row + 1] as number) - (index.spans[row] as number))
    if (this.pos + need <= this.out.length) return true
    if (this.pos > 0) return false
    this.out = Buffer.allocUnsafe(need)
    return true
  }

  /** Entry i's line at pos (room assured). */
  #line(index: EntryIndex, i: number): void {
    const src = index.buf
    const out = this.out
    const spans = index.spans
    const row = i * SPAN_STRIDE
    let p = put(out, this.pos, LEVEL)
    p = putNumber(out, p, index.level[i] as number)
    p = put(out, p, TIME)
    p = putInteger(out, p, index.timeMs(i))
    p = put(out, p, PID)
    p = putNumber(out, p, index.pid[i] as number)
    p = this.#identityAt(out, p, src, spans, row)
    const seq = index.seq[i] as number
    if (seq !== 0) {
      p = put(out, p, SEQ)
      p = putNumber(out, p, seq)
    }
    const traceStart = spans[row + SPAN_TRACE_ID] as number
    const traceEnd = spans[row + SPAN_TRACE_ID + 1] as number
    if (traceEnd > traceStart) p = putQuoted(out, put(out, p, TRACE_ID), src, traceStart, traceEnd)
    const spanStart = spans[row + SPAN_SPAN_ID] as number
    const spanEnd = spans[row + SPAN_SPAN_ID + 1] as number
    if (spanEnd > spanStart) p = putQuoted(out, put(out, p, SPAN_ID), src, spanStart, spanEnd)
    const fieldsStart = spans[row + SPAN_FIELDS] as number
    const fieldsEnd = spans[row + SPAN_FIELDS + 1] as number
    if (fieldsEnd > fieldsStart) p = this.#fields(out, p, src, fieldsStart, fieldsEnd)
    p = put(out, p, MSG)
    p = putQuoted(out, p, src, spans[row + SPAN_MESSAGE] as number, spans[row + SPAN_MESSAGE + 1] as number)
    out[p++] = 0x7d
    out[p++] = 0x0a
    this.pos = p
  }

  /** `,"hostname":…,"app":…,"name":…` (each left out when empty), from the cache while the raw bytes repeat. */
  #identityAt(out: Buffer, p: number, src: Buffer, spans: Uint32Array, row: number): number {
    const hostStart = spans[row + SPAN_HOSTNAME] as number
    const hostLength = (spans[row + SPAN_HOSTNAME + 1] as number) - hostStart
    const appStart = spans[row + SPAN_APP] as number
    const appLength = (spans[row + SPAN_APP + 1] as number) - appStart
    const sourceStart = spans[row + SPAN_SOURCE] as number
    const sourceLength = (spans[row + SPAN_SOURCE + 1] as number) - sourceStart
    const key = this.#identityKey
    const state = this.#state
    if (
      hostLength === state[STATE_HOST_LENGTH] &&
      appLength === state[STATE_APP_LENGTH] &&
      sourceLength === state[STATE_SOURCE_LENGTH] &&
      sameBytes(src, hostStart, key, 0, hostLength) &&
      sameBytes(src, appStart, key, hostLength, appLength) &&
      sameBytes(src, sourceStart, key, hostLength + appLength, sourceLength)
    ) {
      const cached = this.#identity
      const n = state[STATE_IDENTITY_LENGTH] as number
      if (n >= COPY_NATIVE_MIN) return p + cached.copy(out, p, 0, n)
      let q = p
      for (let k = 0; k < n; k++) out[q++] = cached[k] as number
      return q
    }
    const start = p
    let q = p
    if (hostLength > 0) q = putQuoted(out, put(out, q, HOSTNAME), src, hostStart, hostStart + hostLength)
    if (appLength > 0) q = putQuoted(out, put(out, q, APP), src, appStart, appStart + appLength)
    if (sourceLength > 0) q = putQuoted(out, put(out, q, NAME), src, sourceStart, sourceStart + sourceLength)
    // Kept for the next entries when it fits the cache; otherwise the next entry renders its own.
    if (hostLength + appLength + sourceLength <= IDENTITY_CACHE && q - start <= IDENTITY_CACHE) {
      src.copy(key, 0, hostStart, hostStart + hostLength)
      src.copy(key, hostLength, appStart, appStart + appLength)
      src.copy(key, hostLength + appLength, sourceStart, sourceStart + sourceLength)
      out.copy(this.#identity, 0, start, q)
      state[STATE_HOST_LENGTH] = hostLength
      state[STATE_APP_LENGTH] = appLength
      state[STATE_SOURCE_LENGTH] = sourceLength
      state[STATE_IDENTITY_LENGTH] = q - start
    } else state[STATE_HOST_LENGTH] = -1
    return q
  }

  /** The fields member(s): the raw members when they are one object, else `logkit_invalid_fields` (counted). */
  #fields(out: Buffer, p: number, src: Buffer, s: number, e: number): number {
    const shape = scanJsonObject(src, s, e)
    if (shape === JSON_OBJECT) {
      out[p] = 0x2c
      return copySpan(out, p + 1, src, s + 1, e - 1)
    }
    if (shape === JSON_EMPTY_OBJECT) return p
    if (shape === JSON_INVALID) {
      this.invalidFields++
      return putQuoted(out, put(out, p, INVALID_FIELDS), src, s, e)
    }
    // FIELDS_NOT_UTF8: the decoded text decides, as it does for JsonLineWriter.
    const text = src.toString('utf8', s, e)
    const textShape = jsonObjectShape(text)
    if (textShape === JSON_OBJECT) {
      out[p] = 0x2c
      return p + 1 + out.write(text.slice(1, -1), p + 1)
    }
    if (textShape === JSON_EMPTY_OBJECT) return p
    this.invalidFields++
    return put(out, p, INVALID_FIELDS) + out.write(JSON.stringify(text), p + INVALID_FIELDS.length)
  }
}
