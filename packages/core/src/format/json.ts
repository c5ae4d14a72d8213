// pino-compatible NDJSON, built by concatenation: the entry's fields are
// spliced in as the raw text they arrived as (never parsed, never stringified
// again), so a line costs one pass over the strings that need escaping.
//
//   {"level":30,"time":1714566896789,"pid":42,"hostname":"h","app":"a","name":"src","seq":7,…fields,"msg":"…"}
//
// The key order is pino's (level, time, bindings, the logged object, msg), so
// pino-pretty and everything else that reads pino output reads these lines.

import type { LogEntry } from '../entry.js'
import { nsToMs } from '../time.js'

const str = JSON.stringify as (value: string) => string

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

/** One pino-compatible JSON line (no newline). `app`, `name`, `hostname` are left out when empty, `seq` when 0. */
export function formatJson(entry: LogEntry): string {
  let line = '{"level":' + entry.level + ',"time":' + nsToMs(entry.time) + ',"pid":' + entry.pid
  if (entry.hostname !== '') line += ',"hostname":' + hostnames.of(entry.hostname)
  if (entry.app !== '') line += ',"app":' + apps.of(entry.app)
  if (entry.source !== '') line += ',"name":' + sources.of(entry.source)
  if (entry.seq !== 0) line += ',"seq":' + entry.seq
  if (entry.traceId) line += ',"trace_id":' + str(entry.traceId)
  if (entry.spanId) line += ',"span_id":' + str(entry.spanId)
  const members = entry.fields.members
  if (members !== '') line += ',' + members
  return line + ',"msg":' + messages.of(entry.msg) + '}'
}
