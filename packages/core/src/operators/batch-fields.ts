// `fields` conditions asked of a batch's rows (filter's BatchFilter). What a
// condition sees is what it sees on a decoded entry: the value Fields#get finds
// at its path once the fields text is parsed (JSON.parse: the last of
// duplicate keys, own members only), undefined when there is none.
//
// With the native wire loops (wire/native.ts) the value's bytes are found in
// the fields' bytes (findField) and only they are parsed, or not even they
// when the bytes alone decide an equality: the condition's own JSON text is
// equal, and a value of another JSON type, or a string without escapes or an
// integer written plainly whose bytes differ, is not. For the rows the addon
// leaves to the TypeScript (fields the line's check refuses, a key written
// with an escape, a path through an array), and without the addon, the fields
// are parsed whole, as readEntry parses them.

import { Fields } from '../fields.js'
import type { EntryIndex } from '../wire/entry-index.js'
import { SPAN_FIELDS } from '../wire/entry-index.js'
import { type WireNative, wireFor } from '../wire/native.js'

/** One `fields` condition: the path's keys and the test of the value found there. */
export interface FieldTest {
  readonly keys: readonly string[]
  /** The value an equality condition asks for (undefined for a pattern). */
  readonly equals?: string | number | boolean | null
  test(value: unknown): boolean
}

// findField's answers beside a span.
const NO_VALUE = -1

/** A test, with what the addon needs to find its value and to decide an equality from the bytes. */
interface Compiled {
  readonly field: FieldTest
  /** The keys' UTF-8 (undefined when a key is not well-formed text: its bytes would not say it). */
  readonly keys: Uint8Array[] | undefined
  /** JSON.stringify(equals), as bytes. */
  readonly json: Buffer | undefined
  /** The JSON type equals has: its text's first byte class (see jsonType). */
  readonly type: number
}

const STRING = 1
const NUMBER = 2
const LITERAL = 3 // true, false, null: equal exactly when their bytes are
const CONTAINER = 4

/** The JSON type of the value whose first byte is c. */
function jsonType(c: number): number {
  if (c === 0x22) return STRING
  if (c === 0x7b || c === 0x5b) return CONTAINER
  if (c === 0x74 || c === 0x66 || c === 0x6e) return LITERAL
  return NUMBER
}

export class BatchFields {
  readonly #tests: readonly Compiled[]
  readonly #native: WireNative | undefined
  #spans = new Int32Array(512)

  constructor(fields: readonly FieldTest[]) {
    this.#native = wireFor(undefined)
    this.#tests = fields.map((field) => {
      const wellFormed = field.keys.every((key) => Buffer.from(key).toString() === key)
      // Only a value its JSON text gives back (not NaN or ±Infinity, which JSON writes as null).
      const exact = field.equals !== undefined && JSON.parse(JSON.stringify(field.equals)) === field.equals
      const json = exact ? Buffer.from(JSON.stringify(field.equals)) : undefined
      return {
        field,
        keys: wellFormed ? field.keys.map((key) => Buffer.from(key)) : undefined,
        json,
        type: json === undefined ? 0 : jsonType(json[0] as number),
      }
    })
  }

  /** Keeps, at the start of rows[0 … n-1], the rows whose fields meet every condition; returns how many. */
  keep(index: EntryIndex, rows: Int32Array, n: number): number {
    let kept = n
    for (const compiled of this.#tests) {
      if (kept === 0) break
      kept =
        this.#native === undefined || compiled.keys === undefined
          ? this.#keepParsed(index, rows, kept, compiled.field)
          : this.#keepFound(this.#native, index, rows, kept, compiled, compiled.keys)
    }
    return kept
  }

  /** The rows whose whole fields, parsed, meet the condition. */
  #keepParsed(index: EntryIndex, rows: Int32Array, n: number, field: FieldTest): number {
    let kept = 0
    for (let k = 0; k < n; k++) {
      const row = rows[k] as number
      if (field.test(Fields.fromJSON(index.text(row, SPAN_FIELDS)).get(field.keys))) rows[kept++] = row
    }
    return kept
  }

  /** The rows whose value at the path, found by the addon, meets the condition. */
  #keepFound(
    native: WireNative,
    index: EntryIndex,
    rows: Int32Array,
    n: number,
    compiled: Compiled,
    keys: Uint8Array[],
  ): number {
    if (this.#spans.length < 2 * n) this.#spans = new Int32Array(2 * n)
    const spans = this.#spans
    native.findField(index.entryBlock, index.capacity, index.entries, index.buf, rows, n, keys, spans)
    const { field } = compiled
    const buf = index.buf
    let kept = 0
    for (let k = 0; k < n; k++) {
      const row = rows[k] as number
      const start = spans[2 * k] as number
      let holds: boolean
      if (start >= 0) {
        const end = spans[2 * k + 1] as number
        const decided = decidedByBytes(compiled, buf, start, end)
        holds = decided ?? field.test(JSON.parse(buf.toString('utf8', start, end)))
      } else if (start === NO_VALUE) holds = field.test(undefined)
      else holds = field.test(Fields.fromJSON(index.text(row, SPAN_FIELDS)).get(field.keys))
      if (holds) rows[kept++] = row
    }
    return kept
  }
}

/**
 * Whether the value buf[start, end) (JSON text the addon checked) meets an
 * equality condition, when its bytes alone say so; undefined when it must be
 * parsed (a pattern, a string with escapes, a number not written plainly).
 */
function decidedByBytes(compiled: Compiled, buf: Buffer, start: number, end: number): boolean | undefined {
  const json = compiled.json
  if (json === undefined) {
    // A pattern tests strings, numbers and booleans only.
    return jsonType(buf[start] as number) === CONTAINER ? false : undefined
  }
  if (end - start === json.length) {
    let same = true
    for (let k = 0; k < json.length; k++) {
      if (buf[start + k] !== json[k]) {
        same = false
        break
      }
    }
    if (same) return true
  }
  const type = jsonType(buf[start] as number)
  if (type !== compiled.type) return false
  if (type === LITERAL) return false
  if (type === STRING) {
    for (let k = start + 1; k < end; k++) if (buf[k] === 0x5c) return undefined
    return false
  }
  // A number: one written as plain digits (at most 15, no sign but a leading
  // minus before a non-zero digit) is the integer its digits say, and equal to
  // a condition only when JSON.stringify writes that condition the same way.
  return plainInteger(buf, start, end) ? false : undefined
}

/** True for -?[1-9][0-9]{0,14} and 0. */
function plainInteger(buf: Buffer, start: number, end: number): boolean {
  let p = start
  if (buf[p] === 0x2d) p++
  const digits = end - p
  if (digits < 1 || digits > 15) return false
  if (buf[p] === 0x30) return digits === 1 && p === start
  for (let q = p; q < end; q++) {
    const c = buf[q] as number
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}
