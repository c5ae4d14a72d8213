// The named tags of wire/tags.ts against the contract, proto/logkit.proto as
// protobufjs reads it: each name is its field's number and wire type, and
// every field of the framed messages has a name (a field added to the
// schema fails here until it is named).

import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import t from 'tap'
import * as tags from '../src/wire/tags.js'

const root = protobuf.loadSync(fileURLToPath(new URL('../proto/logkit.proto', import.meta.url)))

/** Each named tag: [message, field name as protobufjs calls it]. */
const named: Record<string, [string, string]> = {
  FRAME_BATCH: ['Frame', 'batch'],
  FRAME_HELLO: ['Frame', 'hello'],
  FRAME_HEARTBEAT: ['Frame', 'heartbeat'],
  FRAME_GOODBYE: ['Frame', 'goodbye'],
  BATCH_ENTRY: ['Batch', 'entries'],
  BATCH_DROPPED: ['Batch', 'dropped'],
  BATCH_DROPPED_TOO_LARGE: ['Batch', 'droppedTooLarge'],
  BATCH_DROPPED_UNSERIALIZABLE: ['Batch', 'droppedUnserializable'],
  ENTRY_TIME: ['LogEntry', 'timeUnixNano'],
  ENTRY_LEVEL: ['LogEntry', 'level'],
  ENTRY_SEVERITY: ['LogEntry', 'severityNumber'],
  ENTRY_MESSAGE: ['LogEntry', 'message'],
  ENTRY_APP: ['LogEntry', 'app'],
  ENTRY_SOURCE: ['LogEntry', 'source'],
  ENTRY_PID: ['LogEntry', 'pid'],
  ENTRY_HOSTNAME: ['LogEntry', 'hostname'],
  ENTRY_SEQ: ['LogEntry', 'seq'],
  ENTRY_FIELDS_JSON: ['LogEntry', 'fieldsJson'],
  ENTRY_TRACE_ID: ['LogEntry', 'traceId'],
  ENTRY_SPAN_ID: ['LogEntry', 'spanId'],
  HELLO_APP: ['Hello', 'app'],
  HELLO_SOURCE: ['Hello', 'source'],
  HELLO_PID: ['Hello', 'pid'],
  HELLO_HOSTNAME: ['Hello', 'hostname'],
  HELLO_PROTOCOL: ['Hello', 'protocol'],
  HELLO_TRANSPORT: ['Hello', 'transport'],
  HELLO_CAPABILITY: ['Hello', 'capabilities'],
  HELLO_START_TIME: ['Hello', 'startTimeUnixNano'],
  HEARTBEAT_NOW: ['Heartbeat', 'nowUnixNano'],
  HEARTBEAT_NEXT: ['Heartbeat', 'nextUnixNano'],
  HEARTBEAT_LAST_SEQ: ['Heartbeat', 'lastSeq'],
  GOODBYE_LAST_SEQ: ['Goodbye', 'lastSeq'],
  GOODBYE_DROPPED: ['Goodbye', 'dropped'],
  GOODBYE_DROPPED_TOO_LARGE: ['Goodbye', 'droppedTooLarge'],
  GOODBYE_DROPPED_UNSERIALIZABLE: ['Goodbye', 'droppedUnserializable'],
}

/** The wire type protobuf uses for a field of this declared type (no packed repeated scalars in this schema). */
function wireType(type: string): number {
  if (type === 'fixed64' || type === 'sfixed64' || type === 'double') return tags.WIRE_FIXED64
  if (type === 'fixed32' || type === 'sfixed32' || type === 'float') return tags.WIRE_FIXED32
  if (['uint32', 'uint64', 'int32', 'int64', 'sint32', 'sint64', 'bool'].includes(type))
    return tags.WIRE_VARINT
  if (type === 'string' || type === 'bytes') return tags.WIRE_LEN
  // A message type.
  root.lookupType(`logkit.v1.${type}`)
  return tags.WIRE_LEN
}

t.test('each named tag is its field number and wire type in proto/logkit.proto', (t) => {
  for (const [name, [message, field]] of Object.entries(named)) {
    const f = root.lookupType(`logkit.v1.${message}`).fields[field]
    if (f === undefined) {
      t.fail(`${name}: ${message}.${field} is not in the schema`)
      continue
    }
    const want = (f.id << 3) | wireType(f.type)
    t.equal(
      (tags as Record<string, number>)[name],
      want,
      `${name} is ${message}.${field} (${f.id}, ${f.type})`,
    )
    t.ok(want < 128, `${name} fits in one byte, as readers that compare a tag byte assume`)
  }
  t.end()
})

t.test('every field of every framed message has a name, and every name is checked', (t) => {
  const covered = new Set(Object.values(named).map(([m, f]) => `${m}.${f}`))
  for (const message of ['Frame', 'Batch', 'LogEntry', 'Hello', 'Heartbeat', 'Goodbye']) {
    for (const field of Object.keys(root.lookupType(`logkit.v1.${message}`).fields)) {
      t.ok(covered.has(`${message}.${field}`), `${message}.${field} has a named tag in wire/tags.ts`)
    }
  }
  for (const name of Object.keys(tags)) {
    if (name.startsWith('WIRE_')) continue
    t.ok(name in named, `${name} is checked against the schema by this test`)
  }
  t.end()
})
