// The shm source's byte path: what it hands the pipeline are batches whose
// entries are views into the ring (a frame that wraps is copied), released
// only once written; malformed frames among good ones are skipped and counted.

import {
  crc32,
  createPipeline,
  type Diagnostic,
  type EntryBatch,
  Fields,
  FRAME_HEADER_SIZE,
  FrameEncoder,
  type Sink,
  writeFrameHeader,
} from '@logkit/core'
import { JsonRenderer } from '@logkit/core/wire'
import t from 'tap'
import { MIN_CAPACITY, TAIL_INDEX } from '../src/layout.js'
import { shm } from '../src/producer.js'
import { createShmSource } from '../src/source.js'
import { isolatedEnv, startProducer, until } from './helpers.js'

/** A sink that takes batches: renders them as JSON lines, and notes where their bytes were. */
function renderingSink() {
  const renderer = new JsonRenderer()
  const got = { lines: [] as string[], inRing: 0, copied: 0, writes: 0 }
  const sink: Sink = {
    write(batch) {
      got.writes += batch.length
    },
    writeEntries(batches: readonly EntryBatch[]) {
      for (const batch of batches) {
        if (batch.index.buf.buffer instanceof SharedArrayBuffer) got.inRing++
        else got.copied++
        renderer.reset()
        renderer.renderSelection(batch.index, batch.rows, 0, batch.length)
        got.lines.push(...renderer.bytes().toString('utf8').split('\n').slice(0, -1))
      }
    },
  }
  return { got, sink }
}

function collector(app: string, env: Record<string, string>, sink: Sink) {
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    app,
    sources: [{ id: 'shm', create: (ctx) => createShmSource(app, { env }, ctx) }],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
    diagnosticEntries: false,
  })
  return { pipeline, diagnostics }
}

t.test(
  'batches point into the ring; frames that wrap are copied; every entry arrives once, in order',
  async (t) => {
    const env = isolatedEnv()
    const { got, sink } = renderingSink()
    const { pipeline } = collector('views', env, sink)
    await pipeline.start()
    // A small ring laps many times: frames of varying size wrap at many offsets.
    const n = 30_000
    const producer = await startProducer(env, ['views', 'p', n, MIN_CAPACITY]).result
    t.equal(producer.code, 0, 'the producer ran')
    await until(() => got.lines.length >= n, 60_000, 'every entry')
    const entries = got.lines.map((line) => JSON.parse(line))
    t.same(
      entries.map((e) => e.i),
      Array.from({ length: n }, (_, k) => k + 1),
      'each entry once, in order',
    )
    t.same(entries[0]?.pad, 'x', 'fields as the producer logged them')
    t.same(entries[48]?.pad, 'x'.repeat(49))
    t.ok(got.inRing > 0, `batches that are views into the ring (${got.inRing})`)
    t.ok(got.copied > 0, `frames that wrapped, copied (${got.copied})`)
    t.equal(got.writes, 0, 'nothing was decoded for write()')
    await pipeline.close()
  },
)

t.test('a malformed frame among good ones is skipped and counted; the others arrive', async (t) => {
  const env = isolatedEnv()
  const transport = shm({ app: 'malformed', source: 'm', capacity: MIN_CAPACITY, env })
  const ring = transport.ring
  const encoder = new FrameEncoder()
  const good = (msg: string, seq: number) =>
    Buffer.from(
      encoder.entry({
        time: 1n,
        level: 30,
        msg,
        app: 'malformed',
        source: 'm',
        pid: 1,
        hostname: 'h',
        seq,
        fields: Fields.empty,
      }),
    )
  // A frame whose CRC holds but whose payload is not a Frame message: a batch
  // whose entry claims more bytes than the batch holds.
  const payload = Buffer.from([0x0a, 0x03, 0x0a, 0x7f, 0x00])
  const bad = Buffer.alloc(FRAME_HEADER_SIZE + payload.length)
  payload.copy(bad, FRAME_HEADER_SIZE)
  writeFrameHeader(bad, 0, payload.length, crc32(bad, FRAME_HEADER_SIZE, bad.length))
  let p = ring.tail
  for (const frame of [good('before', 1), bad, good('after', 2)]) {
    ring.put(p, frame, 0, frame.length)
    p += frame.length
  }
  Atomics.store(ring.header, TAIL_INDEX, p)
  const { got, sink } = renderingSink()
  const { pipeline, diagnostics } = collector('malformed', env, sink)
  await pipeline.start()
  await until(() => got.lines.length >= 2, 30_000, 'the good entries')
  t.same(
    got.lines.map((line) => JSON.parse(line).msg),
    ['before', 'after'],
    'the frames around it',
  )
  const skipped = diagnostics
    .filter((d) => d.code === 'frame_corrupt')
    .reduce((n, d) => n + (d.count ?? 0), 0)
  t.equal(skipped, bad.length, 'its bytes counted as skipped')
  await pipeline.close()
  await transport.close()
})
