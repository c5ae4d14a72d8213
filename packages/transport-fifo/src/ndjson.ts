// One stdin line → one entry. A line holding a JSON object is read the way
// pino writes it: level, time, msg, name (→ source), pid and hostname become
// the entry's own; every other member stays in the fields as its raw JSON
// text, cut out of the line rather than re-serialised, so numbers beyond
// double precision and key order survive. Anything else is a message.

import { createEntry, Fields, jsonMembers, jsonString, type LogEntry, msToNs, parseLevel } from '@logkit/core'

export interface LineDefaults {
  readonly app: string
  /** Source of entries that do not name one. */
  readonly source: string
  readonly hostname: string
  readonly seq: number
}

interface Member {
  readonly key: string
  readonly start: number
  readonly end: number
}

const HEX32 = /^[0-9a-f]{32}$/i
const HEX16 = /^[0-9a-f]{16}$/i

/** A line of text (without its newline) as an entry. */
export function parseLine(line: string, defaults: LineDefaults): LogEntry {
  const trimmed = line.trim()
  if (trimmed.charCodeAt(0) === 123 /* { */ && trimmed.charCodeAt(trimmed.length - 1) === 125 /* } */) {
    let value: unknown
    try {
      value = JSON.parse(trimmed)
    } catch {
      value = undefined
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return fromObject(trimmed, value as Record<string, unknown>, defaults)
    }
  }
  return textEntry(line, defaults)
}

/** A line that is not a JSON object: its text is the message. */
export function textEntry(text: string, defaults: LineDefaults, fields?: Record<string, unknown>): LogEntry {
  return createEntry({
    level: 30,
    msg: text,
    app: defaults.app,
    source: defaults.source,
    pid: 0,
    hostname: defaults.hostname,
    seq: defaults.seq,
    ...(fields === undefined ? {} : { fields }),
  })
}

function fromObject(json: string, obj: Record<string, unknown>, defaults: LineDefaults): LogEntry {
  const taken = new Set<string>()
  const take = <T>(key: string, value: T | undefined): T | undefined => {
    if (value !== undefined) taken.add(key)
    return value
  }
  const level = take('level', levelOf(obj['level']))
  const time = take('time', timeOf(obj['time']))
  let msg = take('msg', typeof obj['msg'] === 'string' ? obj['msg'] : undefined)
  if (msg === undefined && !('msg' in obj)) msg = take('message', stringOf(obj['message']))
  const source = take('name', stringOf(obj['name']))
  const pid = take(
    'pid',
    Number.isSafeInteger(obj['pid']) && (obj['pid'] as number) >= 0 ? (obj['pid'] as number) : undefined,
  )
  const hostname = take('hostname', stringOf(obj['hostname']))
  const traceId = take('trace_id', hexOf(obj['trace_id'], HEX32))
  const spanId = take('span_id', hexOf(obj['span_id'], HEX16))
  return createEntry({
    // createEntry's own default (now) applies only when the key is absent.
    ...(time === undefined ? {} : { time }),
    level: level ?? 30,
    msg: msg ?? '',
    app: defaults.app,
    source: source ?? defaults.source,
    pid: pid ?? 0,
    hostname: hostname ?? defaults.hostname,
    seq: defaults.seq,
    ...(traceId === undefined ? {} : { traceId }),
    ...(spanId === undefined ? {} : { spanId }),
    fields: taken.size === 0 ? Fields.fromJSON(json) : Fields.fromJSON(withoutMembers(json, taken)),
  })
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function hexOf(value: unknown, pattern: RegExp): string | undefined {
  return typeof value === 'string' && pattern.test(value) ? value.toLowerCase() : undefined
}

function levelOf(value: unknown): number | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined
  try {
    return parseLevel(value)
  } catch {
    return undefined // an unknown level stays in the fields, the entry is info
  }
}

/** pino's time: ms since the epoch, or ISO text (stdTimeFunctions.isoTime). */
function timeOf(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return msToNs(value)
  if (typeof value === 'string') {
    const ms = Date.parse(value)
    if (!Number.isNaN(ms)) return msToNs(ms)
  }
  return undefined
}

/** The object's text without the members named in `keys` (the text is known to be valid JSON). */
export function withoutMembers(json: string, keys: ReadonlySet<string>): string {
  const kept = topLevelMembers(json)
    .filter((m) => !keys.has(m.key))
    .map((m) => json.slice(m.start, m.end))
  return kept.length === 0 ? '{}' : `{${kept.join(',')}}`
}

/** The spans (key through value) of an object's top-level members. */
export function topLevelMembers(json: string): Member[] {
  const members: Member[] = []
  jsonMembers(json, json.length, (keyFrom, keyTo, _valueFrom, valueTo) => {
    members.push({ key: jsonString(json, keyFrom, keyTo), start: keyFrom, end: valueTo })
  })
  return members
}
