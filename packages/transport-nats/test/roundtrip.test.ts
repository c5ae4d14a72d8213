// Sink and source in one process against a real nats-server: what the sink
// publishes (frames or NDJSON, decoded entries or entries that are still
// bytes) comes out of the source entry by entry, with its host, pid and seq;
// a message is acknowledged to JetStream only once the pipeline's sinks wrote
// its entries.

import { createEntry, createPipeline, FrameEncoder, type LogEntry } from '@logkit/core'
import { createMemorySink, waitFor } from '@logkit/core/testing'
import { EntryBatch, EntryIndex } from '@logkit/core/wire'
import { jetstreamManager } from '@nats-io/jetstream'
import t from 'tap'
import { createNatsSink, createNatsSource, natsSinkOptions, natsSourceOptions } from '../src/index.js'
import { client, startServer, streamMessages } from './helpers.js'

const entries = (n: number, source = 'web', host = 'h1', pid = 42): LogEntry[] =>
  Array.from({ length: n }, (_, i) =>
    createEntry({
      msg: `m${i + 1}`,
      seq: i + 1,
      app: 'shop',
      source,
      hostname: host,
      pid,
      fields: { i: i + 1 },
    }),
  )

/** The same entries as bytes: one frame, indexed, as a transport's source hands them over. */
function asBatch(list: readonly LogEntry[]): EntryBatch {
  const frame = Buffer.from(new FrameEncoder().batch(list))
  const index = new EntryIndex()
  index.index(frame)
  return EntryBatch.of(index)
}

const noop = () => {}

function read(url: string, durable: string, want: number) {
  const sink = createMemorySink()
  const pipeline = createPipeline({
    id: 'central',
    diagnosticEntries: false,
    sources: [
      {
        id: 'nats',
        create: (ctx) =>
          createNatsSource(natsSourceOptions.parse({ servers: url, durable, ackWaitMs: 5000 }), ctx),
      },
    ],
    sinks: [sink],
  })
  return {
    sink,
    pipeline,
    done: async () => {
      await pipeline.start()
      await waitFor(() => sink.entries.length >= want, `${want} entries at the central sink`)
      return sink.entries
    },
  }
}

for (const encoding of ['frames', 'ndjson'] as const) {
  t.test(`${encoding}: entries and byte batches arrive whole, with host, pid and seq`, async (t) => {
    const server = await startServer(t)
    const sink = createNatsSink(
      natsSinkOptions.parse({ servers: server.url, encoding, maxMessageEntries: 7 }),
      { report: noop, app: 'shop' },
    )
    t.teardown(() => sink.close())
    await sink.write(entries(10, 'web'))
    await sink.writeEntries?.([asBatch(entries(20, 'db', 'h2', 7))])
    t.equal(sink.status().inFlight, 0, 'nothing in flight once the writes resolved')
    t.equal(sink.status().acknowledged, sink.status().published, 'every message published was acknowledged')
    const nc = await client(t, server.url)
    const jsm = await jetstreamManager(nc)
    const info = await jsm.streams.info('LOGKIT')
    t.same(info.config.subjects, ['logkit.>'], 'the sink made the stream')
    t.equal(info.state.messages, 2 + 3, 'messages of at most 7 entries, per subject')
    const subjects = await jsm.streams.info('LOGKIT', { subjects_filter: '>' })
    t.same(
      Object.keys(subjects.state.subjects ?? {}).sort(),
      ['logkit.shop.db', 'logkit.shop.web'],
      'subjects by app and source',
    )

    const reader = read(server.url, `c${encoding}`, 30)
    t.teardown(() => reader.pipeline.close())
    const got = await reader.done()
    const key = (e: LogEntry) => `${e.hostname}/${e.pid}/${e.seq}/${e.msg}/${e.source}`
    t.same(
      got.map(key).sort(),
      [...entries(10, 'web'), ...entries(20, 'db', 'h2', 7)].map(key).sort(),
      'every entry once, with its identity',
    )
    const first = got.find((e) => e.source === 'web' && e.seq === 1)
    t.equal(first?.fields.json, '{"i":1}', 'fields kept')
    await reader.pipeline.close()
    // The last acknowledgements leave as the pipeline closes: wait for the server to have them.
    let consumer = await jsm.consumers.info('LOGKIT', `c${encoding}`)
    for (let tries = 0; consumer.num_ack_pending > 0 && tries < 500; tries++) {
      await new Promise((r) => setTimeout(r, 20))
      consumer = await jsm.consumers.info('LOGKIT', `c${encoding}`)
    }
    t.equal(consumer.num_ack_pending, 0, 'every message acknowledged once written')
    t.equal(consumer.delivered.consumer_seq, 5, 'each delivered once')
  })
}

t.test('a message is acknowledged only after the sinks wrote its entries', async (t) => {
  const server = await startServer(t)
  const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url }), { report: noop })
  t.teardown(() => sink.close())
  await sink.write(entries(5))
  const held = createMemorySink({ manual: true })
  const pipeline = createPipeline({
    id: 'central',
    diagnosticEntries: false,
    sources: [
      {
        id: 'nats',
        create: (ctx) =>
          createNatsSource(
            natsSourceOptions.parse({ servers: server.url, durable: 'held', ackWaitMs: 5000 }),
            ctx,
          ),
      },
    ],
    sinks: [held],
  })
  t.teardown(() => {
    held.release()
    return pipeline.close()
  })
  await pipeline.start()
  await waitFor(() => held.waiting > 0, 'a write to wait at the sink')
  const nc = await client(t, server.url)
  const jsm = await jetstreamManager(nc)
  let info = await jsm.consumers.info('LOGKIT', 'held')
  t.equal(info.num_ack_pending, 1, 'the message is delivered and not acknowledged while its writes wait')
  held.release()
  await waitFor(() => held.entries.length >= 1 && held.waiting > 0, 'the next write to wait')
  info = await jsm.consumers.info('LOGKIT', 'held')
  t.equal(info.num_ack_pending, 1, 'still not acknowledged while some of its entries are not written')
  await waitFor(() => {
    held.release()
    return held.entries.length === 5
  }, 'the entries written')
  for (let i = 0; i < 200; i++) {
    info = await jsm.consumers.info('LOGKIT', 'held')
    if (info.num_ack_pending === 0) break
    await new Promise((r) => setTimeout(r, 20))
  }
  t.equal(info.num_ack_pending, 0, 'acknowledged once written')
  t.equal(await streamMessages(nc, 'LOGKIT'), 1, 'one message on the stream')
})
