// The top-level members of a JSON object text, found by their structure
// (strings, nesting) without parsing or building anything: for readers that
// keep most members as the text they are (pino's lines, NDJSON input) and
// read only a few.

/** A member's key `text[keyFrom, keyTo)` (quotes included) and value `text[valueFrom, valueTo)`. */
export type MemberVisitor = (keyFrom: number, keyTo: number, valueFrom: number, valueTo: number) => void

/**
 * Calls `visit` for each top-level member of the object text `text[0, end)`
 * (whitespace around it allowed), in order; false, part way through, when
 * the text is not one object. Values are delimited, not validated.
 */
export function jsonMembers(text: string, end: number, visit: MemberVisitor): boolean {
  let i = skipSpace(text, 0, end)
  while (end > i && isSpace(text.charCodeAt(end - 1))) end--
  if (text.charCodeAt(i) !== 0x7b || text.charCodeAt(end - 1) !== 0x7d) return false
  i = skipSpace(text, i + 1, end - 1)
  while (i < end - 1) {
    if (text.charCodeAt(i) !== 0x22) return false
    const keyTo = jsonStringEnd(text, i, end)
    if (keyTo < 0) return false
    let v = skipSpace(text, keyTo, end)
    if (text.charCodeAt(v) !== 0x3a) return false
    v = skipSpace(text, v + 1, end)
    const valueTo = jsonValueEnd(text, v, end - 1)
    if (valueTo < 0) return false
    visit(i, keyTo, v, valueTo)
    i = skipSpace(text, valueTo, end)
    if (text.charCodeAt(i) === 0x2c) i = skipSpace(text, i + 1, end)
    else if (i !== end - 1) return false
  }
  return true
}

/** The index after the string literal starting at i (a '"'); -1 when it does not end before `end`. */
export function jsonStringEnd(text: string, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const c = text.charCodeAt(j)
    if (c === 0x5c) j++
    else if (c === 0x22) return j + 1
  }
  return -1
}

/** The value of the string literal `text[from, to)`; throws (JSON.parse's SyntaxError) on a bad escape. */
export function jsonString(text: string, from: number, to: number): string {
  const inner = text.slice(from + 1, to - 1)
  return inner.indexOf('\\') < 0 ? inner : (JSON.parse(text.slice(from, to)) as string)
}

/** The index after the JSON value starting at i; -1 when it does not end before `end`. */
export function jsonValueEnd(text: string, i: number, end: number): number {
  const c = text.charCodeAt(i)
  if (c === 0x22) return jsonStringEnd(text, i, end)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (let j = i; j < end; j++) {
      const d = text.charCodeAt(j)
      if (d === 0x22) {
        j = jsonStringEnd(text, j, end) - 1
        if (j < 0) return -1
      } else if (d === 0x7b || d === 0x5b) depth++
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1
      }
    }
    return -1
  }
  let j = i
  while (j < end) {
    const d = text.charCodeAt(j)
    if (d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) break
    j++
  }
  return j > i ? j : -1
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipSpace(text: string, i: number, end: number): number {
  while (i < end && isSpace(text.charCodeAt(i))) i++
  return i
}
