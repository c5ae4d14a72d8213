// The fields check of format/json-check.ts, over UTF-8 bytes in place: is
// buf[start, end) one JSON object that a line may splice in as it is? The
// byte renderer (json-render.ts) runs it on the fields_json span of a frame
// and copies the span when it says so, so it must answer exactly what
// jsonObjectShape answers for the decoded text (tested on random and
// mutated texts). It can, byte for byte: every structural character of JSON
// is ASCII, and decoding UTF-8 never turns a byte sequence into ASCII nor
// swallows an ASCII byte, so the text and its bytes have the same structure.
//
// One thing the bytes cannot say alone is what copying them gives: invalid
// UTF-8 inside a string decodes to U+FFFD, so copying the raw bytes would not
// give what decoding and re-encoding gives. The scan checks the UTF-8 of the
// strings it walks and answers FIELDS_NOT_UTF8 when it is not valid (the
// renderer then takes the decoded text's path). Outside strings any byte
// above 0x7f is not JSON, whatever it decodes to.
//
// Every read is bounded by `end`: the span is part of a larger buffer, and a
// byte after it must never count.

import { JSON_EMPTY_OBJECT, JSON_INVALID, JSON_OBJECT } from '../format/json-check.js'

/** The bytes hold invalid UTF-8 inside a string: decode them and check the text instead. */
export const FIELDS_NOT_UTF8 = 2

/** What scanJsonObject answers. */
export type FieldsShape =
  | typeof JSON_INVALID
  | typeof JSON_EMPTY_OBJECT
  | typeof JSON_OBJECT
  | typeof FIELDS_NOT_UTF8

/** Nesting refused beyond this, as json-check.ts refuses it. */
const MAX_DEPTH = 1024
/** Open containers: true for an object, false for an array. Shared: a scan never re-enters itself. */
const open = new Uint8Array(MAX_DEPTH)

// Negative positions returned by the helpers below.
const BAD = -1
const NOT_UTF8 = -2

/**
 * The length of the well-formed UTF-8 sequence starting at buf[i] (a byte
 * above 0x7f), or 0 when it is not one: no overlong forms, no surrogates,
 * nothing above U+10FFFF, nothing cut by `end` (as the WHATWG decoder that
 * Buffer#toString uses would replace it).
 */
export function utf8SequenceLength(buf: Uint8Array, i: number, end: number): number {
  const c = buf[i] as number
  if (c < 0xc2 || c > 0xf4) return 0
  if (c < 0xe0) return i + 1 < end && ((buf[i + 1] as number) & 0xc0) === 0x80 ? 2 : 0
  const c1 = i + 1 < end ? (buf[i + 1] as number) : 0
  if (c < 0xf0) {
    const low = c === 0xe0 ? 0xa0 : 0x80
    const high = c === 0xed ? 0x9f : 0xbf
    if (c1 < low || c1 > high || i + 2 >= end) return 0
    return ((buf[i + 2] as number) & 0xc0) === 0x80 ? 3 : 0
  }
  const low = c === 0xf0 ? 0x90 : 0x80
  const high = c === 0xf4 ? 0x8f : 0xbf
  if (c1 < low || c1 > high || i + 3 >= end) return 0
  return ((buf[i + 2] as number) & 0xc0) === 0x80 && ((buf[i + 3] as number) & 0xc0) === 0x80 ? 4 : 0
}

function afterSpace(buf: Uint8Array, i: number, end: number): number {
  let p = i
  while (p < end && (buf[p] === 0x20 || buf[p] === 0x09)) p++
  return p
}

function hex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))
}

/** After the JSON string whose quote is at buf[i]; BAD when it is not one, NOT_UTF8 for invalid UTF-8 in it. */
function afterString(buf: Uint8Array, i: number, end: number): number {
  let p = i + 1
  while (p < end) {
    const c = buf[p] as number
    if (c === 0x22) return p + 1
    if (c < 0x20) return BAD
    if (c === 0x5c) {
      if (p + 1 >= end) return BAD
      const e = buf[p + 1] as number
      if (e === 0x75) {
        if (p + 5 >= end || !(hex(buf[p + 2]) && hex(buf[p + 3]) && hex(buf[p + 4]) && hex(buf[p + 5])))
          return BAD
        p += 6
      } else if (
        e === 0x22 ||
        e === 0x5c ||
        e === 0x2f ||
        e === 0x62 ||
        e === 0x66 ||
        e === 0x6e ||
        e === 0x72 ||
        e === 0x74
      ) {
        p += 2
      } else return BAD
    } else if (c < 0x80) p++
    else {
      const n = utf8SequenceLength(buf, p, end)
      if (n === 0) return NOT_UTF8
      p += n
    }
  }
  return BAD
}

/** After a key string, the space after it and its colon; BAD or NOT_UTF8 otherwise. */
function afterKey(buf: Uint8Array, i: number, end: number): number {
  if (i >= end || buf[i] !== 0x22) return BAD
  const p = afterString(buf, i, end)
  if (p < 0) return p
  const q = afterSpace(buf, p, end)
  return q < end && buf[q] === 0x3a ? q + 1 : BAD
}

function afterDigits(buf: Uint8Array, i: number, end: number): number {
  let p = i
  while (p < end && (buf[p] as number) >= 0x30 && (buf[p] as number) <= 0x39) p++
  return p
}

/** After the JSON number at buf[i]: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; BAD otherwise. */
function afterNumber(buf: Uint8Array, i: number, end: number): number {
  let p = i
  if (buf[p] === 0x2d) p++
  if (p >= end) return BAD
  const first = buf[p] as number
  if (first === 0x30) p++
  else if (first >= 0x31 && first <= 0x39) p = afterDigits(buf, p + 1, end)
  else return BAD
  if (p < end && buf[p] === 0x2e) {
    const q = afterDigits(buf, p + 1, end)
    if (q === p + 1) return BAD
    p = q
  }
  if (p < end && (buf[p] === 0x65 || buf[p] === 0x45)) {
    p++
    if (p < end && (buf[p] === 0x2b || buf[p] === 0x2d)) p++
    const q = afterDigits(buf, p, end)
    if (q === p) return BAD
    p = q
  }
  return p
}

/** After the literal (true, false, null) whose ASCII bytes are `word`, or BAD. */
function afterWord(buf: Uint8Array, i: number, end: number, word: readonly number[]): number {
  if (i + word.length > end) return BAD
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word[k]) return BAD
  return i + word.length
}

const TRUE = [0x74, 0x72, 0x75, 0x65]
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65]
const NULL = [0x6e, 0x75, 0x6c, 0x6c]

/**
 * What buf[start, end) is as the fields of a line: JSON_OBJECT, JSON_EMPTY_OBJECT
 * or JSON_INVALID as jsonObjectShape(its text) answers, or FIELDS_NOT_UTF8.
 */
export function scanJsonObject(buf: Uint8Array, start: number, end: number): FieldsShape {
  if (end - start < 2 || buf[start] !== 0x7b || buf[end - 1] !== 0x7d) return JSON_INVALID
  let depth = 0
  let members = false
  let i = start
  for (;;) {
    // A value starts here.
    i = afterSpace(buf, i, end)
    const c = i < end ? (buf[i] as number) : -1
    if (c === 0x7b || c === 0x5b) {
      if (depth === MAX_DEPTH) return JSON_INVALID
      open[depth++] = c === 0x7b ? 1 : 0
      i = afterSpace(buf, i + 1, end)
      if (i < end && buf[i] === (c === 0x7b ? 0x7d : 0x5d)) {
        depth--
        i++
      } else {
        if (depth === 1) members = true
        if (c === 0x7b) {
          i = afterKey(buf, i, end)
          if (i < 0) return i === NOT_UTF8 ? FIELDS_NOT_UTF8 : JSON_INVALID
        }
        continue
      }
    } else if (c === 0x22) i = afterString(buf, i, end)
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) i = afterNumber(buf, i, end)
    else if (c === 0x74) i = afterWord(buf, i, end, TRUE)
    else if (c === 0x66) i = afterWord(buf, i, end, FALSE)
    else if (c === 0x6e) i = afterWord(buf, i, end, NULL)
    else return JSON_INVALID
    if (i < 0) return i === NOT_UTF8 ? FIELDS_NOT_UTF8 : JSON_INVALID
    // A value ended here: close containers, or a comma and the next member or element.
    for (;;) {
      if (depth === 0) return i === end ? (members ? JSON_OBJECT : JSON_EMPTY_OBJECT) : JSON_INVALID
      i = afterSpace(buf, i, end)
      const next = i < end ? (buf[i] as number) : -1
      const inObject = open[depth - 1] === 1
      if (next === 0x2c) {
        i = afterSpace(buf, i + 1, end)
        if (inObject) {
          i = afterKey(buf, i, end)
          if (i < 0) return i === NOT_UTF8 ? FIELDS_NOT_UTF8 : JSON_INVALID
        }
        break
      }
      if (next === (inObject ? 0x7d : 0x5d)) {
        depth--
        i++
        continue
      }
      return JSON_INVALID
    }
  }
}
