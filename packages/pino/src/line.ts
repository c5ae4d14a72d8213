// A pino line cut into what logkit's schema keeps apart (level, time,
// message, source) and the rest, kept as the raw JSON text pino wrote: one
// pass over the line's top-level members, no object built per line. Values are
// skipped by their structure (strings, nesting); only the few that map onto
// the schema are read.

import { hostname } from 'node:os'
import { jsonMembers, jsonString, levels as namedLevels } from '@logkit/core/producer'

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
  /**
   * The other members as a JSON object text, '' when there are none; or,
   * from cutPino, the line's UTF-8 bytes, its members being fields[from, to).
   */
  fields: string | Buffer
  /** Where the members start and end in `fields` (1 and length − 1 for an object text). */
  from: number
  to: number
}

/** Times below this are seconds (pino's `unixTime`), not milliseconds. */
const SECONDS_BELOW = 1e11

export class LineCutter {
  readonly #messageKey: string
  readonly #levels: Map<string, number>
  readonly out: CutLine = {
    level: 30,
    time: 0,
    msg: '',
    name: '',
    pid: -1,
    hostname: '',
    fields: '',
    from: 1,
    to: -1,
  }
  /** Lines that were not a JSON object: kept whole as the message, at level info. */
  notJson = 0

  constructor(options: LineOptions = {}) {
    this.#messageKey = options.messageKey ?? 'msg'
    this.#key = `,${JSON.stringify(this.#messageKey)}:`
    this.#levels = new Map(Object.entries({ ...namedLevels, ...options.levels }))
  }

  /**
   * Cuts a line pino just wrote, told its level, message and time text by
   * pino itself (its metadata: `lastLevel`, `lastMsg`, `lastTime`). pino
   * writes `{"level":L,"time":T` + its bindings (`,"pid":…,"hostname":…`,
   * `,"name":…`, a child's) + the call's members + `,"msg":M` + `}`: when the
   * line is that, only its ends are compared and the members between are
   * taken as they are, as a byte range of the line's UTF-8 (`fields` is then
   * a Buffer, valid until the next cut); any other line is cut member by
   * member (cut()).
   *
   * The line is encoded once, natively, and compared as bytes: comparing
   * pino's line as a string costs more than encoding it (it is a
   * concatenation, which V8 flattens on first read, and each startsWith on it
   * is a call), and the frame needs its bytes anyway.
   */
  cutPino(line: string, level: number, msg: unknown, time: string): CutLine {
    if (typeof msg !== 'string' || line.length > BYTES_MAX_UNITS) return this.cut(line)
    let bytes = this.#bytes
    if (bytes.length < line.length * 3) {
      bytes = Buffer.allocUnsafe(Math.max(bytes.length * 2, line.length * 3))
      this.#bytes = bytes
    }
    const n = bytes.write(line, 0)
    // `{"level":L,"time":` as one text, then pino's time text (lastTime).
    const timed = time !== ''
    const heads = timed ? this.#timedHeads : this.#heads
    let head = heads.get(level)
    if (head === undefined) {
      head = Buffer.from(timed ? `{"level":${level}${TIME_KEY}` : `{"level":${level}`)
      heads.set(level, head)
    }
    if (!bytesAt(bytes, n, 0, head) || !asciiAt(bytes, n, head.length, time)) return this.cut(line)
    let p = head.length + time.length
    // The tail: `,"msg":` and the message quoted, then `}`. Compared as text:
    // what pino tells is the message before its redaction, serializers and
    // hooks, so a line whose message differs from it is read from the line.
    if (msg !== this.#tailMsg) {
      this.#tailMsg = msg
      this.#tail = Buffer.from(`${this.#key}${JSON.stringify(msg)}}`)
    }
    const tail = this.#tail
    let end = n
    if (bytes[end - 1] === 0x0a) end--
    end -= tail.length
    if (end < p || !bytesAt(bytes, n, end, tail)) return this.cut(line)
    // pino's bindings: this process's pid and hostname (anything else there
    // is read from the line), then `name` once at most, before the members.
    if (bytesAt(bytes, end, p, this.#base)) p += this.#base.length
    else if (bytesAt(bytes, end, p, PID_KEY) || bytesAt(bytes, end, p, HOSTNAME_KEY)) return this.cut(line)
    let name = ''
    const named = indexOfName(bytes, p, end)
    if (named >= 0) {
      // A name right here is the logger's; one further on (a child's, the
      // call's, or inside a value) is left to the member-by-member read.
      if (named !== p) return this.cut(line)
      const nameEnd = stringEnd(bytes, p + NAME_KEY.length, end)
      if (nameEnd < 0 || indexOfName(bytes, nameEnd, end) >= 0) return this.cut(line)
      const text = this.#nameOf(bytes, p + NAME_KEY.length, nameEnd)
      if (text === undefined) return this.cut(line)
      name = text
      p = nameEnd
    }
    // What is left is `,"k":v` members, or nothing.
    if (p < end && bytes[p] !== 0x2c) return this.cut(line)
    const ms = timed ? timeOf(time) : Date.now()
    if (Number.isNaN(ms)) return this.cut(line)
    const out = this.out
    out.level = level
    out.time = ms
    out.msg = msg
    out.name = name
    out.pid = -1
    out.hostname = ''
    out.fields = bytes
    out.from = p + 1
    out.to = p < end ? end : p + 1
    this.fast++
    return out
  }

  /** Lines cutPino read by their ends alone. */
  fast = 0
  /** The line being cut by cutPino, as UTF-8. */
  #bytes = Buffer.alloc(0)
  readonly #heads = new Map<number, Buffer>()
  readonly #timedHeads = new Map<number, Buffer>()
  #tailMsg: string | undefined
  #tail = Buffer.alloc(0)
  /** `,"msg":` with the message key. */
  readonly #key: string
  /** pino's default bindings in this process: its pid and hostname, which every entry carries anyway. */
  readonly #base = Buffer.from(`,"pid":${process.pid},"hostname":${JSON.stringify(hostname())}`)
  /** The last name read (its JSON string's bytes) and its text: a logger writes the same name line after line. */
  #nameBytes = Buffer.alloc(0)
  #name = ''

  /** The JSON string bytes[from, to) as text; undefined when it is not one (a bad escape). */
  #nameOf(bytes: Buffer, from: number, to: number): string | undefined {
    const known = this.#nameBytes
    if (known.length === to - from && bytesAt(bytes, to, from, known)) return this.#name
    let name: string
    try {
      name = JSON.parse(bytes.toString('utf8', from, to)) as string
    } catch {
      return undefined
    }
    this.#nameBytes = Buffer.from(bytes.subarray(from, to))
    this.#name = name
    return name
  }

  /** Cuts `line` (one JSON object, a trailing newline allowed) into `out`; its fields are text. */
  cut(line: string): CutLine & { fields: string } {
    const out = this.#reset()
    this.#line = line
    this.#fields = ''
    let members: boolean
    try {
      members = jsonMembers(line, line.length, this.#member)
    } catch {
      // A bad escape in a key or a value read (JSON.parse of it threw): not JSON.
      members = false
    }
    if (members) {
      out.fields = this.#fields === '' ? '' : `{${this.#fields}}`
      out.to = out.fields.length - 1
    } else {
      this.notJson++
      this.#reset().msg = line.trimEnd()
    }
    if (Number.isNaN(out.time)) out.time = Date.now()
    return out as CutLine & { fields: string }
  }

  /** `out` with nothing read yet: info, no time, no message, source, pid, hostname or fields. */
  #reset(): CutLine {
    const out = this.out
    out.level = 30
    out.time = Number.NaN
    out.msg = ''
    out.name = ''
    out.pid = -1
    out.hostname = ''
    out.fields = ''
    out.from = 1
    out.to = -1
    return out
  }

  /** The line being cut, and the members kept as fields so far. */
  #line = ''
  #fields = ''

  /** One member of the line: taken onto the schema, or kept as written. */
  readonly #member = (keyFrom: number, keyTo: number, valueFrom: number, valueTo: number): void => {
    const line = this.#line
    if (this.#take(jsonString(line, keyFrom, keyTo), line, valueFrom, valueTo)) return
    const member = line.slice(keyFrom, valueTo)
    this.#fields = this.#fields === '' ? member : `${this.#fields},${member}`
  }

  /** Takes a member that maps onto the schema; false for one that stays a field. */
  #take(key: string, line: string, from: number, to: number): boolean {
    const out = this.out
    const first = line.charCodeAt(from)
    if (key === this.#messageKey) {
      if (first !== 0x22) return false
      out.msg = jsonString(line, from, to)
      return true
    }
    switch (key) {
      case 'level': {
        if (first === 0x22) {
          const level = this.#levels.get(jsonString(line, from, to))
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
        const time = timeOf(line.slice(from, to))
        if (Number.isNaN(time)) return false
        out.time = time
        return true
      }
      case 'name':
        if (first !== 0x22) return false
        out.name = jsonString(line, from, to)
        return true
      case 'pid': {
        const pid = Number(line.slice(from, to))
        if (!Number.isSafeInteger(pid) || pid < 0) return false
        out.pid = pid
        return true
      }
      case 'hostname':
        if (first !== 0x22) return false
        out.hostname = jsonString(line, from, to)
        return true
      default:
        return false
    }
  }
}

const TIME_KEY = ',"time":'
const NAME_KEY = Buffer.from(',"name":')
const PID_KEY = Buffer.from(',"pid":')
const HOSTNAME_KEY = Buffer.from(',"hostname":')
/** Lines longer than this (UTF-16 units) are cut as text, so the byte buffer stays below 3× this. */
const BYTES_MAX_UNITS = 64 * 1024

/** Whether bytes[at, …) (which end at `end`) start with `what`. */
function bytesAt(bytes: Buffer, end: number, at: number, what: Buffer): boolean {
  const n = what.length
  if (at + n > end) return false
  for (let i = 0; i < n; i++) if (bytes[at + i] !== what[i]) return false
  return true
}

/** Whether bytes[at, …) (which end at `end`) start with the ASCII text `what` (false for any other text). */
function asciiAt(bytes: Buffer, end: number, at: number, what: string): boolean {
  const n = what.length
  if (at + n > end) return false
  for (let i = 0; i < n; i++) {
    const c = what.charCodeAt(i)
    if (c > 0x7f || bytes[at + i] !== c) return false
  }
  return true
}

/**
 * Where `,"name":` starts in bytes[from, end), or -1. It cannot start inside
 * a string value (a quote there is escaped), only at a member of the line or
 * of a nested object.
 */
function indexOfName(bytes: Buffer, from: number, end: number): number {
  const last = end - NAME_KEY.length
  for (let i = from; i <= last; i++) {
    if (bytes[i] === 0x2c && bytes[i + 2] === 0x6e && bytesAt(bytes, end, i, NAME_KEY)) return i
  }
  return -1
}

/** The end (after its closing quote) of the JSON string opening at bytes[from], or -1 when there is none before `end`. */
function stringEnd(bytes: Buffer, from: number, end: number): number {
  if (bytes[from] !== 0x22) return -1
  for (let i = from + 1; i < end; i++) {
    const c = bytes[i]
    if (c === 0x22) return i + 1
    if (c === 0x5c) i++
  }
  return -1
}

/** A time value's JSON text as ms since the epoch: a number (ms, or seconds below 10^11) or ISO text; NaN if neither. */
function timeOf(text: string): number {
  const ms = epochMs(text)
  if (ms >= 0) return ms
  const time = text.charCodeAt(0) === 0x22 ? Date.parse(jsonString(text, 0, text.length)) : Number(text)
  if (!Number.isFinite(time)) return Number.NaN
  return time < SECONDS_BELOW ? time * 1000 : time
}

/** Epoch ms as pino writes it by default (13 digits), read without Number()'s generality; -1 for anything else. */
function epochMs(text: string): number {
  if (text.length !== 13) return -1
  let ms = 0
  for (let i = 0; i < 13; i++) {
    const d = text.charCodeAt(i) - 0x30
    if (d < 0 || d > 9) return -1
    ms = ms * 10 + d
  }
  return ms
}
