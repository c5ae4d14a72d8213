import { createWriteStream, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { from } from 'rxjs'
import t from 'tap'
import type { Diagnostic } from '../src/diagnostics.js'
import { createEntry } from '../src/entry.js'
import { Fields } from '../src/fields.js'
import { createPipeline } from '../src/runtime/pipeline.js'
import { createStreamSink } from '../src/sinks/stream.js'
import { sinkConformance } from '../src/testing/conformance.js'
import { tempDir } from '../src/testing/index.js'

let n = 0
sinkConformance(t, {
  name: 'stream sink into a real file',
  async create() {
    const dir = tempDir('logkit-stream-sink-')
    const path = join(dir, `out-${n++}.log`)
    const sink = createStreamSink({ stream: createWriteStream(path), end: true })
    return {
      sink,
      read: async () =>
        readFileSync(path, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line).msg as string),
    }
  },
})

t.test('a slow stream’s backpressure holds the write until it drains', async (t) => {
  const chunks: string[] = []
  let release: (() => void) | undefined
  const slow = new Writable({
    highWaterMark: 16,
    write(chunk, _enc, cb) {
      chunks.push(String(chunk))
      release = cb
    },
  })
  const sink = createStreamSink({ stream: slow, format: { format: 'text', template: '{msg}' } })
  let done = false
  const write = Promise.resolve(sink.write([createEntry({ msg: 'x'.repeat(64) })])).then(() => {
    done = true
  })
  await new Promise((r) => setImmediate(r))
  t.notOk(done, 'the write waits for the stream')
  release?.()
  await write
  t.ok(done, 'and resolves once it drained')
  t.same(chunks, [`${'x'.repeat(64)}\n`], 'the line was written once')
})

/** A Writable that keeps what it is given. */
function collecting(): { stream: Writable; chunks: string[] } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk))
      cb()
    },
  })
  return { stream, chunks }
}

t.test('entries that already carry a formatted line are written as they are', async (t) => {
  const { stream, chunks } = collecting()
  const sink = createStreamSink({ stream })
  await sink.write([{ ...createEntry({ msg: 'm' }), line: 'pre-formatted' }])
  t.same(chunks, ['pre-formatted\n'], 'the line wins over the sink’s format')
})

t.test(
  'hostile fields: one valid line per entry in a real file, and fields_invalid with the exact count',
  async (t) => {
    const dir = tempDir('logkit-stream-sink-')
    const path = join(dir, 'out.log')
    const forged = '{"a":1}\n{"level":60,"msg":"forged"}'
    const entries = [
      createEntry({ msg: 'one', seq: 1, fields: Fields.fromJSON(forged) }),
      createEntry({ msg: 'two', seq: 2, fields: { ok: true } }),
      createEntry({ msg: 'three', seq: 3, fields: Fields.fromJSON('{"a":"x\ry"}') }),
    ]
    const seen: Diagnostic[] = []
    const pipeline = createPipeline({
      id: 'p',
      sources: [from(entries)],
      sinks: [
        {
          id: 'out',
          create: (ctx) =>
            createStreamSink({ stream: createWriteStream(path), end: true, report: ctx.report }),
        },
      ],
      diagnosticEntries: false,
      onDiagnostic: (d) => seen.push(d),
    })
    await pipeline.start()
    await pipeline.closed
    const lines = readFileSync(path, 'utf8').split('\n')
    t.equal(lines.pop(), '', 'the file ends with a newline')
    t.equal(lines.length, 3, 'three entries make exactly three lines (no forged line)')
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    t.same(
      parsed.map((p) => p['seq']),
      [1, 2, 3],
      'each line is valid JSON, in order',
    )
    t.equal(
      parsed[0]?.['logkit_invalid_fields'],
      forged,
      'the forged fields are kept, quoted, in their own line',
    )
    const reports = seen.filter((d) => d.code === 'fields_invalid')
    t.equal(
      reports.reduce((sum, d) => sum + (d.count ?? 0), 0),
      2,
      'fields_invalid counts exactly the two hostile entries',
    )
    t.ok(
      reports.length > 0 && reports.every((d) => d.stage === 'sink' && d.component === 'out'),
      'reported by the sink, at stage sink',
    )
  },
)

t.test('fields_invalid is reported once per batch that had any, after it is written', async (t) => {
  const seen: { code: string; count?: number | undefined }[] = []
  const { stream, chunks } = collecting()
  const sink = createStreamSink({
    stream,
    report: (d) => seen.push({ code: d.code, count: d.count }),
  })
  const bad = (seq: number) => createEntry({ msg: 'bad', seq, fields: Fields.fromJSON('{"a":"\n"}\n{}') })
  await sink.write([bad(1), createEntry({ msg: 'good', seq: 2 }), bad(3)])
  await sink.write([createEntry({ msg: 'good', seq: 4 })])
  await sink.write([bad(5)])
  t.same(
    seen,
    [
      { code: 'fields_invalid', count: 2 },
      { code: 'fields_invalid', count: 1 },
    ],
    'two of the first batch, none of the second, one of the third',
  )
  t.equal(chunks.join('').split('\n').length - 1, 5, 'five entries, five lines')
})
