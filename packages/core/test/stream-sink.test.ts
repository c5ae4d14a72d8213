import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { createEntry } from '../src/entry.js'
import { createStreamSink } from '../src/sinks/stream.js'
import { sinkConformance } from '../src/testing/conformance.js'

let n = 0
sinkConformance(t, {
  name: 'stream sink into a real file',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'logkit-stream-sink-'))
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

t.test('entries that already carry a formatted line are written as they are', async (t) => {
  const chunks: string[] = []
  const sink = createStreamSink({
    stream: new Writable({
      write(chunk, _enc, cb) {
        chunks.push(String(chunk))
        cb()
      },
    }),
  })
  await sink.write([{ ...createEntry({ msg: 'm' }), line: 'pre-formatted' }])
  t.same(chunks, ['pre-formatted\n'], 'the line wins over the sink’s format')
})
