// formatJson's inverse: an entry from a pino-compatible JSON line as logkit's
// json format writes it (a file sink's history, a dead-letter file). The
// schema's own keys are read; every other member stays in the fields as its
// raw text, so nothing is parsed that is only copied on.

import { createEntry, type LogEntry } from '../entry.js'
import { Fields } from '../fields.js'
import { jsonMembers, jsonString } from '../json-members.js'
import { msToNs } from '../time.js'

/** Keys of a line that are the entry's own, in the order formatJson writes them (then the fields, then msg). */
const OWN = ['level', 'time', 'pid', 'hostname', 'app', 'name', 'seq', 'trace_id', 'span_id']

/**
 * The entry a JSON line holds, or undefined when the line is not one JSON
 * object. As formatJson writes a line: the entry's own keys first, then its
 * fields, then `msg` last. A field may have an own key's name (`name`,
 * `time`…): only the leading own keys, in formatJson's order, and the last
 * `msg` are the entry's.
 */
export function entryFromJsonLine(line: string): LogEntry | undefined {
  const own: Record<string, unknown> = {}
  const rest: string[] = []
  /** Where in OWN the last own key was: an own key comes after it, or it is a field. */
  let last = -1
  /** The last `msg` member: its value text, and its place in rest (-1: none yet). */
  const msg = { value: '', at: -1 }
  let ok: boolean
  try {
    ok = jsonMembers(line, line.length, (keyFrom, keyTo, valueFrom, valueTo) => {
      const key = jsonString(line, keyFrom, keyTo)
      const at = last < OWN.length ? OWN.indexOf(key, last + 1) : -1
      if (at >= 0) {
        own[key] = JSON.parse(line.slice(valueFrom, valueTo))
        last = at
        return
      }
      last = OWN.length
      if (key === 'msg') {
        msg.value = line.slice(valueFrom, valueTo)
        msg.at = rest.length
      }
      rest.push(line.slice(keyFrom, valueTo))
    })
  } catch {
    return undefined
  }
  if (!ok) return undefined
  // msg is the line's last member; a `msg` before it is a field's.
  if (msg.at >= 0 && msg.at === rest.length - 1) {
    rest.pop()
    try {
      own['msg'] = JSON.parse(msg.value)
    } catch {
      return undefined
    }
  }
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
