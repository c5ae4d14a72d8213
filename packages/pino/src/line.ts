// A pino line cut into what logkit's schema keeps apart (level, time,
// message, source) and the rest, kept as the raw JSON text pino wrote: one
// pass over the line's top-level members, no object built per line. Values are
// skipped by their structure (strings, nesting); only the few that map onto
// the schema are read.

import { levels as namedLevels } from '@logkit/core/producer'

export interface LineOptions {
  /** pino's `messageKey` (default 'msg'). */
  readonly messageKey?: string
  /**
   * Level labels to numbers, for loggers whose `formatters.level` writes the
   * label (`{"level":"info"}`) or that have custom levels; pino's six names
   * are known already.
   */
  readonly levels?: Readonly<Record<string, number>>
}

/** One cut line; the same object is filled again for each line. */
export interface CutLine {
  level: number
  /** ms since the epoch; the time of the cut when the line has none (pino's `nullTime`). */
  time: number
  msg: string
  /** pino's `name` when the line has one, else ''. */
  name: string
  /** The line's `pid`, -1 when it has none. */
  pid: number
  /** The line's `hostname`, '' when it has none. */
  hostname: string
  /** The other members as a JSON object text, '' when there are none. */
  fields: string
}

/** Times below this are seconds (pino's `unixTime`), not milliseconds. */
const SECONDS_BELOW = 1e11

export class LineCutter {
  readonly #messageKey: string
  readonly #levels: Map<string, number>
  readonly out: CutLine = { level: 30, time: 0, msg: '', name: '', pid: -1, hostname: '', fields: '' }
  /** Lines that were not a JSON object: kept whole as the message, at level info. */
  notJson = 0

  constructor(options: LineOptions = {}) {
    this.#messageKey = options.messageKey ?? 'msg'
    this.#levels = new Map(Object.entries({ ...namedLevels, ...options.levels }))
  }

  /** Cuts `line` (one JSON object, a trailing newline allowed) into `out`. */
  cut(line: string): CutLine {
    const out = this.out
    out.level = 30
    out.time = Number.NaN
    out.msg = ''
    out.name = ''
    out.pid = -1
    out.hostname = ''
    out.fields = ''
    let end = line.length
    while (end > 0 && isSpace(line.charCodeAt(end - 1))) end--
    if (!this.#members(line, end)) {
      this.notJson++
      out.level = 30
      out.time = Number.NaN
      out.msg = line.slice(0, end)
      out.name = ''
      out.pid = -1
      out.hostname = ''
      out.fields = ''
    }
    if (Number.isNaN(out.time)) out.time = Date.now()
    return out
  }

  /** Reads the members of the object text line[0, end); false when it is not one. */
  #members(line: string, end: number): boolean {
    const out = this.out
    let i = skipSpace(line, 0, end)
    if (line.charCodeAt(i) !== 0x7b || line.charCodeAt(end - 1) !== 0x7d) return false
    i = skipSpace(line, i + 1, end - 1)
    let fields = ''
    while (i < end - 1) {
      if (line.charCodeAt(i) !== 0x22) return false
      const keyEnd = stringEnd(line, i, end)
      if (keyEnd < 0) return false
      let v = skipSpace(line, keyEnd, end)
      if (line.charCodeAt(v) !== 0x3a) return false
      v = skipSpace(line, v + 1, end)
      const valueEnd = valueEndAt(line, v, end - 1)
      if (valueEnd < 0) return false
      const key = stringValue(line, i, keyEnd)
      if (!this.#take(key, line, v, valueEnd))
        fields = fields === '' ? line.slice(i, valueEnd) : `${fields},${line.slice(i, valueEnd)}`
      i = skipSpace(line, valueEnd, end)
      if (line.charCodeAt(i) === 0x2c) i = skipSpace(line, i + 1, end)
      else if (i !== end - 1) return false
    }
    out.fields = fields === '' ? '' : `{${fields}}`
    return true
  }

  /** Takes a member that maps onto the schema; false for one that stays a field. */
  #take(key: string, line: string, from: number, to: number): boolean {
    const out = this.out
    const first = line.charCodeAt(from)
    if (key === this.#messageKey) {
      if (first !== 0x22) return false
      out.msg = stringValue(line, from, to)
      return true
    }
    switch (key) {
      case 'level': {
        if (first === 0x22) {
          const level = this.#levels.get(stringValue(line, from, to))
          if (level === undefined) return false
          out.level = level
          return true
        }
        const level = Number(line.slice(from, to))
        if (!Number.isInteger(level) || level < 0 || level > 100) return false
        out.level = level
        return true
      }
      case 'time': {
        const time = first === 0x22 ? Date.parse(stringValue(line, from, to)) : Number(line.slice(from, to))
        if (!Number.isFinite(time)) return false
        out.time = time < SECONDS_BELOW ? time * 1000 : time
        return true
      }
      case 'name':
        if (first !== 0x22) return false
        out.name = stringValue(line, from, to)
        return true
      case 'pid': {
        const pid = Number(line.slice(from, to))
        if (!Number.isSafeInteger(pid) || pid < 0) return false
        out.pid = pid
        return true
      }
      case 'hostname':
        if (first !== 0x22) return false
        out.hostname = stringValue(line, from, to)
        return true
      default:
        return false
    }
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

function skipSpace(s: string, i: number, end: number): number {
  while (i < end && isSpace(s.charCodeAt(i))) i++
  return i
}

/** The index after the string literal starting at i (a '"'); -1 when it does not end before `end`. */
function stringEnd(s: string, i: number, end: number): number {
  for (let j = i + 1; j < end; j++) {
    const c = s.charCodeAt(j)
    if (c === 0x5c) j++
    else if (c === 0x22) return j + 1
  }
  return -1
}

/** The value of the string literal s[from, to). */
function stringValue(s: string, from: number, to: number): string {
  const inner = s.slice(from + 1, to - 1)
  return inner.indexOf('\\') < 0 ? inner : (JSON.parse(s.slice(from, to)) as string)
}

/** The index after the JSON value starting at i; -1 when it does not end before `end`. */
function valueEndAt(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i)
  if (c === 0x22) return stringEnd(s, i, end)
  if (c === 0x7b || c === 0x5b) {
    let depth = 0
    for (let j = i; j < end; j++) {
      const d = s.charCodeAt(j)
      if (d === 0x22) {
        j = stringEnd(s, j, end) - 1
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
    const d = s.charCodeAt(j)
    if (d === 0x2c || d === 0x7d || isSpace(d)) break
    j++
  }
  return j > i ? j : -1
}
