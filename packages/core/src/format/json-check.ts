// Is this text one JSON object that can be spliced into a JSON line as it is?
// A byte scan, not a parse: one pass over the code units, nothing allocated,
// so a sink that copies an entry's fields text (and, later, the frame's bytes)
// can afford it per entry. Every structural character of JSON is ASCII, and
// every unit of a multi-byte character (UTF-16 surrogates here, UTF-8
// continuation bytes in a buffer) is 0x80 or above, so the same scan works
// over either.
//
// Stricter than JSON.parse in two ways, both about framing: the text must
// start with `{` and end with `}` (no whitespace around it), and whitespace
// between tokens is space or tab only. A raw newline or carriage return is
// valid JSON whitespace, but in a line it would end the line; no writer of
// logkit's emits one, so text holding one is treated as not splicable.

/** The text is not one JSON object that fits on a line. */
export const JSON_INVALID = -1
/** One JSON object without members (`{}`, `{ }`). */
export const JSON_EMPTY_OBJECT = 0
/** One JSON object with at least one member. */
export const JSON_OBJECT = 1

export type JsonObjectShape = typeof JSON_INVALID | typeof JSON_EMPTY_OBJECT | typeof JSON_OBJECT

/** Open containers while scanning: 1 for an object, 2 for an array. Deeper text is refused. */
const MAX_DEPTH = 1024
const stack = new Uint8Array(MAX_DEPTH)
const OBJECT = 1
const ARRAY = 2

function skipSpace(text: string, i: number, n: number): number {
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09) break
    i++
  }
  return i
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}

/** The index after the string starting at `i` (a `"`), or -1 when it is not a valid JSON string. */
function skipString(text: string, i: number, n: number): number {
  i++
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 0x22) return i + 1
    if (c < 0x20) return -1 // a raw control character: JSON has only escapes for these
    if (c === 0x5c) {
      const e = text.charCodeAt(i + 1)
      if (e === 0x75) {
        if (
          !(
            isHex(text.charCodeAt(i + 2)) &&
            isHex(text.charCodeAt(i + 3)) &&
            isHex(text.charCodeAt(i + 4)) &&
            isHex(text.charCodeAt(i + 5))
          )
        )
          return -1
        i += 6
        continue
      }
      // " \ / b f n r t
      if (
        e !== 0x22 &&
        e !== 0x5c &&
        e !== 0x2f &&
        e !== 0x62 &&
        e !== 0x66 &&
        e !== 0x6e &&
        e !== 0x72 &&
        e !== 0x74
      )
        return -1
      i += 2
      continue
    }
    i++
  }
  return -1
}

function skipDigits(text: string, i: number, n: number): number {
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c < 0x30 || c > 0x39) break
    i++
  }
  return i
}

/** The index after the number starting at `i`, or -1 when it is not a valid JSON number. */
function skipNumber(text: string, i: number, n: number): number {
  if (text.charCodeAt(i) === 0x2d) i++
  const first = text.charCodeAt(i)
  if (first === 0x30) i++
  else if (first >= 0x31 && first <= 0x39) i = skipDigits(text, i + 1, n)
  else return -1
  if (text.charCodeAt(i) === 0x2e) {
    const end = skipDigits(text, i + 1, n)
    if (end === i + 1) return -1
    i = end
  }
  const e = text.charCodeAt(i)
  if (e === 0x65 || e === 0x45) {
    i++
    const sign = text.charCodeAt(i)
    if (sign === 0x2b || sign === 0x2d) i++
    const end = skipDigits(text, i, n)
    if (end === i) return -1
    i = end
  }
  return i
}

function skipWord(text: string, i: number, word: string): number {
  return text.startsWith(word, i) ? i + word.length : -1
}

/**
 * What `text` is as the fields of a JSON line: JSON_OBJECT (members to
 * splice), JSON_EMPTY_OBJECT (nothing to splice) or JSON_INVALID (anything
 * else: not JSON, not an object, text around it, a raw control character
 * anywhere, or nested deeper than 1024).
 */
export function jsonObjectShape(text: string): JsonObjectShape {
  const n = text.length
  if (n < 2 || text.charCodeAt(0) !== 0x7b || text.charCodeAt(n - 1) !== 0x7d) return JSON_INVALID
  let depth = 0
  let members = false
  let i = 0
  // At the top of the loop a value starts at i (after any space).
  for (;;) {
    i = skipSpace(text, i, n)
    const c = text.charCodeAt(i)
    if (c === 0x7b || c === 0x5b) {
      if (depth === MAX_DEPTH) return JSON_INVALID
      stack[depth++] = c === 0x7b ? OBJECT : ARRAY
      i = skipSpace(text, i + 1, n)
      const close = text.charCodeAt(i)
      if (close === (c === 0x7b ? 0x7d : 0x5d)) {
        depth--
        i++
      } else {
        if (depth === 1) members = true
        if (c === 0x7b) {
          // The first key, its colon, then its value at the top of the loop.
          if (close !== 0x22) return JSON_INVALID
          i = skipSpace(text, skipString(text, i, n), n)
          if (i < 0 || text.charCodeAt(i) !== 0x3a) return JSON_INVALID
          i++
        }
        continue
      }
    } else if (c === 0x22) i = skipString(text, i, n)
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) i = skipNumber(text, i, n)
    else if (c === 0x74) i = skipWord(text, i, 'true')
    else if (c === 0x66) i = skipWord(text, i, 'false')
    else if (c === 0x6e) i = skipWord(text, i, 'null')
    else return JSON_INVALID
    if (i < 0) return JSON_INVALID
    // After a value: close containers, or a comma and the next value.
    for (;;) {
      if (depth === 0) return i === n ? (members ? JSON_OBJECT : JSON_EMPTY_OBJECT) : JSON_INVALID
      i = skipSpace(text, i, n)
      const next = text.charCodeAt(i)
      const top = stack[depth - 1]
      if (next === 0x2c) {
        i = skipSpace(text, i + 1, n)
        if (top === OBJECT) {
          if (text.charCodeAt(i) !== 0x22) return JSON_INVALID
          i = skipSpace(text, skipString(text, i, n), n)
          if (i < 0 || text.charCodeAt(i) !== 0x3a) return JSON_INVALID
          i++
        }
        break
      }
      if ((next === 0x7d && top === OBJECT) || (next === 0x5d && top === ARRAY)) {
        depth--
        i++
        continue
      }
      return JSON_INVALID
    }
  }
}
