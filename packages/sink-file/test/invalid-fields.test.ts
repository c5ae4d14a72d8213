// Entries whose fields text would break a JSON line (a raw newline forging a
// second line, a control character, text that is not one JSON object) are
// written as exactly one line each, their fields quoted, and the sink says how
// many: one `fields_invalid` diagnostic per batch that had any, with the count.

import { join } from 'node:path'
import { createEntry, Fields, type LogEntry } from '@logkit/core'
import t from 'tap'
import { createFileSink } from '../src/index.js'
import { diagnostics, linesOf } from './helpers.js'

const FORGED = '{"a":1}\n{"level":60,"msg":"forged"}'

function entry(seq: number, fields: string): LogEntry {
  return createEntry({ msg: `entry ${seq}`, seq, app: 'test', fields: Fields.fromJSON(fields) })
}

t.test(
  'hostile fields: one valid line per entry, and fields_invalid with the exact count per batch',
  async (t) => {
    const path = join(t.testdir(), 'app.log')
    const seen = diagnostics()
    const sink = createFileSink({ path }, { report: seen.report })
    await sink.write([entry(1, FORGED), entry(2, '{"ok":true}'), entry(3, '{"a":"x\ry"}')])
    await sink.write([entry(4, '{"ok":true}')])
    await sink.write([entry(5, '{"a":"tab\tinside"}')])
    await sink.close()

    const lines = linesOf(path)
    t.equal(lines.length, 5, 'five entries make exactly five lines (no forged line)')
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    t.same(
      parsed.map((p) => p['seq']),
      [1, 2, 3, 4, 5],
      'each line is valid JSON, in order',
    )
    t.equal(
      parsed[0]?.['logkit_invalid_fields'],
      FORGED,
      'the forged fields are kept, quoted, on their own line',
    )
    t.notOk(
      parsed.some((p) => p['level'] === 60),
      'no line was forged at level 60',
    )
    const reports = seen.seen.filter((d) => d.code === 'fields_invalid')
    t.same(
      reports.map((d) => d.count),
      [2, 1],
      'one fields_invalid per batch that had any: 2 for the first, none for the second, 1 for the third',
    )
    t.ok(
      reports.length > 0 && reports.every((d) => (d as { stage?: string }).stage === 'sink'),
      'reported at stage sink',
    )
  },
)
