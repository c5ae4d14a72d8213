// pino-compatible NDJSON, built by concatenation: the entry's fields are
// spliced in as the raw text they arrived as (never parsed, never stringified
// again), so a line costs one pass over the strings that need escaping.
//
//   {"level":30,"time":1714566896789,"pid":42,"hostname":"h","app":"a","name":"src","seq":7,…fields,"msg":"…"}
//
// The key order is pino's (level, time, bindings, the logged object, msg), so
// pino-pretty and everything else that reads pino output reads these lines.
//
// Nothing an entry holds can break the line or its JSON: strings are escaped
// by JSON.stringify; the fields text is spliced only when a byte scan finds it
// one JSON object with no raw control character (Fields.wellFormed), and is
// otherwise written as the string member `"logkit_invalid_fields":"<text>"`
// (the caller counts it); a number that JSON cannot hold (NaN, a string a JS
// caller put in `level`) is written as JSON writes it.

import type { LogEntry } from '../entry.js'
import { nsToMs } from '../time.js'

const str = JSON.stringify as (value: string) => string

/** The key fields that are not one JSON object are written under, as a string. */
export const INVALID_FIELDS_KEY = 'logkit_invalid_fields'

/** A number member's JSON text: String(n) for a finite number or a bigint, as JSON.stringify writes anything else (null for NaN, Infinity, undefined, functions). */
export function numberJson(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  if (typeof value === 'bigint') return String(value)
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value)
  return 'null'
}

const num = (value: number): string | number =>
  typeof value === 'number' && Number.isFinite(value) ? value : numberJson(value)

/** The JSON text of a string that tends to repeat from entry to entry, kept for its last value. */
class Quoted {
  #value = ''
  #json = '""'
  of(value: string): string {
    if (value !== this.#value) {
      this.#value = value
      this.#json = str(value)
    }
    return this.#json
  }
}

const hostnames = new Quoted()
const apps = new Quoted()
const sources = new Quoted()
const messages = new Quoted()

/**
 * One pino-compatible JSON line (no newline). `app`, `name`, `hostname` are
 * left out when empty, `seq` when 0. Fields that are not well-formed
 * (`entry.fields.wellFormed` false) are written as the string member
 * `logkit_invalid_fields`: the caller counts those.
 */
export function formatJson(entry: LogEntry): string {
  let line =
    '{"level":' + num(entry.level) + ',"time":' + num(nsToMs(entry.time)) + ',"pid":' + num(entry.pid)
  if (entry.hostname !== '') line += ',"hostname":' + hostnames.of(entry.hostname)
  if (entry.app !== '') line += ',"app":' + apps.of(entry.app)
  if (entry.source !== '') line += ',"name":' + sources.of(entry.source)
  if (entry.seq !== 0) line += ',"seq":' + num(entry.seq)
  if (entry.traceId) line += ',"trace_id":' + str(entry.traceId)
  if (entry.spanId) line += ',"span_id":' + str(entry.spanId)
  const fields = entry.fields
  if (fields.hasMembers) line += ',' + fields.members
  else if (!fields.wellFormed) line += ',"' + INVALID_FIELDS_KEY + '":' + str(fields.json)
  return line + ',"msg":' + messages.of(entry.msg) + '}'
}
