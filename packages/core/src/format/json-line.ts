// formatJson's inverse: an entry from a pino-compatible JSON line as logkit's
// json format writes it (a file sink's history, a dead-letter file). The
// schema's own keys are read; every other member stays in the fields as its
// raw text, so nothing is parsed that is only copied on.

import { createEntry, type LogEntry } from '../entry.js'
import { Fields } from '../fields.js'
import { jsonMembers, jsonString } from '../json-members.js'
import { msToNs } from '../time.js'

/** Keys of a line that are the entry's own; the other members are its fields. */
const OWN = new Set(['level', 'time', 'pid', 'hostname', 'app', 'name', 'seq', 'trace_id', 'span_id', 'msg'])

/** The entry a JSON line holds, or undefined when the line is not one JSON object. */
export function entryFromJsonLine(line: string): LogEntry | undefined {
  const own: Record<string, unknown> = {}
  const rest: string[] = []
  let ok: boolean
  try {
    ok = jsonMembers(line, line.length, (keyFrom, keyTo, valueFrom, valueTo) => {
      const key = jsonString(line, keyFrom, keyTo)
      if (OWN.has(key)) own[key] = JSON.parse(line.slice(valueFrom, valueTo))
      else rest.push(line.slice(keyFrom, valueTo))
    })
  } catch {
    return undefined
  }
  if (!ok) return undefined
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
  const time = num(own['time'])
  const traceId = str(own['trace_id'])
  const spanId = str(own['span_id'])
  return createEntry({
    level: num(own['level']) ?? 30,
    ...(time === undefined ? {} : { time: msToNs(time) }),
    msg: str(own['msg']) ?? '',
    app: str(own['app']) ?? '',
    source: str(own['name']) ?? '',
    pid: num(own['pid']) ?? 0,
    hostname: str(own['hostname']) ?? '',
    seq: num(own['seq']) ?? 0,
    ...(traceId === undefined ? {} : { traceId }),
    ...(spanId === undefined ? {} : { spanId }),
    fields: Fields.fromJSON(rest.length === 0 ? '{}' : `{${rest.join(',')}}`),
  })
}
