// The source against a real nats-server: messages that are not logkit's are
// skipped and counted (and acknowledged), a message another reader did not
// acknowledge comes again and is counted as a redelivery, the pipeline's
// demand holds the source back (a small blocking sink queue: nothing dropped),
// and a server restart is ridden through.

import { createPipeline, type Diagnostic, isLogkitError, type LogEntry } from '@logkit/core'
import { createMemorySink, waitFor } from '@logkit/core/testing'
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream'
import t from 'tap'
import {
  createNatsSink,
  createNatsSource,
  ensureStream,
  natsSinkOptions,
  natsSourceOptions,
} from '../src/index.js'
import { client, sourceEnd, startServer } from './helpers.js'

type Seen = Omit<Diagnostic, 'stage' | 'component'>

type SinkSpec = Parameters<typeof createPipeline>[0]['sinks'][number]

/** A central pipeline: the source on `durable`, into a memory sink, or into `into` when given. */
function central(url: string, durable: string, options: Record<string, unknown> = {}, into?: SinkSpec) {
  const sink = createMemorySink()
  const seen: Seen[] = []
  let status: () => Record<string, unknown> = () => ({})
  const pipeline = createPipeline({
    id: 'central',
    diagnosticEntries: false,
    onDiagnostic: (d) => void seen.push(d),
    sources: [
      {
        id: 'nats',
        create: (ctx) => {
          const source = createNatsSource(
            natsSourceOptions.parse({ servers: url, durable, ackWaitMs: 2000, ...options }),
            ctx,
          )
          status = () => source.status()
          return source
        },
      },
    ],
    sinks: [into ?? sink],
  })
  return { sink, seen, pipeline, status: () => status() }
}

const line = (seq: number) =>
  JSON.stringify({ level: 30, time: 1, pid: 5, hostname: 'h', app: 'shop', name: 'web', seq, msg: `l${seq}` })

t.test('messages that are not logkit entries are skipped, counted and acknowledged', async (t) => {
  const server = await startServer(t)
  const nc = await client(t, server.url)
  const jsm = await jetstreamManager(nc)
  await ensureStream(jsm, natsSinkOptions.parse({}).stream, 'logkit.x')
  const js = jetstream(nc)
  await js.publish('logkit.shop.web', `${line(1)}\nnot json\n\n${line(2)}\n`)
  await js.publish('logkit.shop.web', Buffer.from([0x4c, 0x4b, 0x01, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 1, 2]))
  await js.publish('logkit.shop.web', 'garbage')
  await js.publish('logkit.shop.web', line(3))
  const c = central(server.url, 'skips')
  t.teardown(() => c.pipeline.close())
  await c.pipeline.start()
  await waitFor(() => c.sink.entries.length === 3, 'the three good lines')
  t.same(
    c.sink.entries.map((e: LogEntry) => [e.seq, e.msg, e.hostname, e.pid]),
    [
      [1, 'l1', 'h', 5],
      [2, 'l2', 'h', 5],
      [3, 'l3', 'h', 5],
    ],
    'NDJSON lines read with their identity',
  )
  await waitFor(() => c.status()['acknowledged'] === 4, 'every message acknowledged, the bad ones too')
  // Reported when the pull that brought them ends.
  await waitFor(
    () => c.seen.filter((d) => d.code === 'nats_bad_message').reduce((n, d) => n + (d.count ?? 0), 0) >= 3,
    'what was skipped to be counted as nats_bad_message',
  )
  t.pass('what was skipped is counted as nats_bad_message')
})

t.test('a message another reader did not acknowledge comes again, counted as a redelivery', async (t) => {
  const server = await startServer(t)
  const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url }), { report: () => {} })
  t.teardown(() => sink.close())
  await sink.write([])
  const nc = await client(t, server.url)
  const jsm = await jetstreamManager(nc)
  await ensureStream(jsm, natsSinkOptions.parse({}).stream, 'logkit.x')
  await jsm.consumers.add('LOGKIT', {
    durable_name: 'again',
    ack_policy: AckPolicy.Explicit,
    ack_wait: 500 * 1_000_000,
  })
  await jetstream(nc).publish('logkit.shop.web', line(7))
  const consumer = await jetstream(nc).consumers.get('LOGKIT', 'again')
  const taken = await consumer.next({ expires: 5000 })
  t.ok(taken, 'a reader took the message and will not acknowledge it')
  const c = central(server.url, 'again')
  t.teardown(() => c.pipeline.close())
  await c.pipeline.start()
  // At least once: under load it may come more than once (its ack wait is 500 ms).
  await waitFor(() => c.sink.entries.length >= 1, 'the message again, after the ack wait', 30_000)
  t.equal(c.sink.entries[0]?.seq, 7, 'the entry, with its seq')
  t.ok((c.status()['redeliveries'] as number) >= 1, 'status counts the redelivery')
  await waitFor(() => c.seen.some((d) => d.code === 'nats_redelivered'), 'and it is reported')
})

t.test("the pipeline's demand holds the source back: a small blocking queue, nothing dropped", async (t) => {
  const server = await startServer(t)
  const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url, maxMessageEntries: 50 }), {
    report: () => {},
  })
  t.teardown(() => sink.close())
  const total = 3000
  const { createEntry } = await import('@logkit/core')
  await sink.write(
    Array.from({ length: total }, (_, k) => createEntry({ msg: 'e', hostname: 'h', pid: 1, seq: k + 1 })),
  )
  const slow = createMemorySink({ delayMs: 5 })
  const { pipeline, seen } = central(
    server.url,
    'slow',
    { batch: 20, ackWaitMs: 30_000 },
    { create: () => slow, queue: { capacity: 100, policy: 'block', maxBatch: 50 } },
  )
  t.teardown(() => pipeline.close())
  await pipeline.start()
  await waitFor(() => slow.entries.length === total, 'every entry through the slow sink', 60_000)
  const stats = pipeline.stats()
  t.equal(stats.sinks[0]?.dropped, 0, 'nothing dropped by the queue')
  t.notOk(
    seen.some((d) => d.code === 'dropped'),
    'no drop reported',
  )
})

t.test('a server restart: the source reconnects and reads on', async (t) => {
  const server = await startServer(t)
  const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url }), { report: () => {} })
  t.teardown(() => sink.close())
  const { createEntry } = await import('@logkit/core')
  await sink.write([createEntry({ msg: 'before', seq: 1 })])
  const c = central(server.url, 'restart', { ackWaitMs: 5000 })
  t.teardown(() => c.pipeline.close())
  await c.pipeline.start()
  await waitFor(() => c.sink.entries.length === 1, 'the first entry')
  await server.stop()
  await waitFor(() => c.status()['server'] === '', 'the source to see the server gone')
  await server.start()
  await waitFor(() => c.status()['reconnects'] === 1, 'the source to reconnect', 30_000)
  for (let tries = 0; ; tries++) {
    try {
      await sink.write([createEntry({ msg: 'after', seq: 2 })])
      break
    } catch (err) {
      if (tries > 50) throw err
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  await waitFor(
    () => c.sink.entries.some((e: LogEntry) => e.msg === 'after'),
    'the entry published after the restart',
    30_000,
  )
  // At least once: the server was killed, so the acknowledgement of the first may be lost and it may come again.
  t.same(
    [...new Set(c.sink.entries.map((e: LogEntry) => e.msg))],
    ['before', 'after'],
    'both entries, in order',
  )
})

t.test('closed before it ever connected: the source completes and lets go', async (t) => {
  const c = central('nats://127.0.0.1:1', 'never')
  await c.pipeline.start()
  const stats = await c.pipeline.close()
  t.equal(stats.sources[0]?.completed, true, 'the source completed')
  t.equal(c.status()['pendingAcks'], 0, 'holding nothing')
})

/** Writes `entries` as the runtime's retry would, until they go through. */
async function written(sink: { write(e: LogEntry[]): Promise<void> }, entries: LogEntry[]): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      return await sink.write(entries)
    } catch (err) {
      if (tries > 60) throw err
      await new Promise((r) => setTimeout(r, 250))
    }
  }
}

t.test(
  'a consumer, then the whole stream, deleted under a running source: made again where it left off, each entry exactly once',
  async (t) => {
    const server = await startServer(t)
    const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url, ackTimeoutMs: 2000 }), {
      report: () => {},
    })
    t.teardown(() => sink.close())
    const { createEntry } = await import('@logkit/core')
    const entry = (seq: number) => createEntry({ msg: `m${seq}`, hostname: 'h', pid: 1, seq })
    await sink.write([entry(1)])
    const c = central(server.url, 'gone')
    t.teardown(() => c.pipeline.close())
    await c.pipeline.start()
    await waitFor(() => c.sink.entries.length === 1, 'the first entry')
    // Everything read is acknowledged before each deletion: nothing is held
    // unacknowledged, so nothing may come twice (with messages held, at most
    // those would: the consumer is made again from the earliest one held).
    await waitFor(() => c.status()['acknowledged'] === 1, 'the first message acknowledged')
    await waitFor(
      () => c.status()['ackFloor'] === 1,
      "the server's ack floor past it, as the source knows it",
    )
    const nc = await client(t, server.url)
    const jsm = await jetstreamManager(nc)

    await jsm.consumers.delete('LOGKIT', 'gone')
    await written(sink, [entry(2)])
    await waitFor(
      () => c.sink.entries.some((e: LogEntry) => e.seq === 2),
      'the entry published after the consumer was deleted',
      60_000,
    )
    t.ok(await jsm.consumers.info('LOGKIT', 'gone'), 'the consumer was made again')
    t.ok(
      c.seen.some((d) => d.code === 'nats_consumer_unavailable'),
      'the lost consumer was reported as nats_consumer_unavailable',
    )
    t.match(
      c.seen.find((d) => d.code === 'nats_consumer_recreated'),
      { details: { startSeq: 2, sameStream: true } },
      'reported as made again from stream sequence 2, after the acknowledged one',
    )
    await waitFor(() => c.status()['acknowledged'] === 2, 'the second message acknowledged')
    await waitFor(() => c.status()['ackFloor'] === 2, 'the ack floor past it')

    await jsm.streams.delete('LOGKIT')
    await written(sink, [entry(3)])
    await waitFor(
      () => c.sink.entries.some((e: LogEntry) => e.seq === 3),
      'the entry published after the stream was deleted (sink and source make theirs again)',
      60_000,
    )
    await waitFor(() => c.status()['lastError'] === '', 'status clears the error once pulling works')
    t.match(
      c.seen.filter((d) => d.code === 'nats_consumer_recreated').at(-1),
      { details: { startSeq: 1, sameStream: false } },
      'on the new stream: made again from its start',
    )
    t.same(
      c.sink.entries.map((e: LogEntry) => e.seq),
      [1, 2, 3],
      'every entry arrived exactly once, in order',
    )
  },
)

t.test('a stream that does not exist (a misspelled name): reported, and shown in status', async (t) => {
  const server = await startServer(t)
  const c = central(server.url, 'typo', { stream: 'LOGKTI' })
  t.teardown(() => c.pipeline.close())
  await c.pipeline.start()
  const d = await waitFor(
    () => c.seen.find((d) => d.code === 'nats_consumer_unavailable'),
    'the missing stream to be reported',
  )
  t.match(d.message, /LOGKTI.*not found/, 'naming the stream and the error')
  t.match(c.status()['lastError'], /not found/, 'status shows it')
  await waitFor(() => (c.status()['retries'] as number) >= 3, 'the source to have tried again, twice')
  t.equal(
    c.seen.filter((d) => d.code === 'nats_consumer_unavailable').length,
    1,
    'reported once, though retried',
  )
})

t.test('credentials without the permission to use JetStream: the source fails, clearly', async (t) => {
  const server = await startServer(t, {
    extra: `authorization { users: [ { user: eve, password: "Eve-Secret-pw", permissions: { publish: { deny: ["$JS.API.>"] } } } ] }`,
  })
  const err = await sourceEnd({
    servers: server.url,
    durable: 'd',
    auth: { user: 'eve', password: 'Eve-Secret-pw' },
  })
  t.ok(isLogkitError(err, 'LOGKIT_ERR_NATS_AUTH'), 'the source fails with LOGKIT_ERR_NATS_AUTH')
  t.match(String((err as Error).message), /permission/, 'saying a permission is missing')
  t.notMatch(String((err as Error).message), 'Eve-Secret-pw', 'without the password')
})

t.test(
  'a consumer deleted while messages are held unacknowledged: made again from the earliest held, so at most those come again',
  async (t) => {
    const server = await startServer(t)
    const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url, maxMessageEntries: 1 }), {
      report: () => {},
    })
    t.teardown(() => sink.close())
    const { createEntry } = await import('@logkit/core')
    const entry = (seq: number) => createEntry({ msg: `m${seq}`, hostname: 'h', pid: 1, seq })
    await sink.write([entry(1), entry(2)])
    // A sink that holds its writes while closed: what it holds stays unacknowledged.
    const got: number[] = []
    let open = true
    const waiters: (() => void)[] = []
    const gated = {
      async write(batch: readonly LogEntry[]) {
        if (!open) await new Promise<void>((r) => waiters.push(r))
        for (const e of batch) got.push(e.seq as number)
      },
    }
    const { pipeline, seen, status } = central(server.url, 'held', { ackWaitMs: 30_000 }, gated)
    t.teardown(() => pipeline.close())
    await pipeline.start()
    await waitFor(() => status()['acknowledged'] === 2, 'messages 1 and 2 written and acknowledged')
    open = false
    await sink.write([entry(3), entry(4)])
    await waitFor(() => status()['pendingAcks'] === 2, 'messages 3 and 4 delivered and held unacknowledged')
    await waitFor(() => status()['ackFloor'] === 2, "the server's ack floor at 2, as the source knows it")
    const nc = await client(t, server.url)
    const jsm = await jetstreamManager(nc)
    await jsm.consumers.delete('LOGKIT', 'held')
    await written(sink, [entry(5)])
    const made = await waitFor(
      () => seen.find((d) => d.code === 'nats_consumer_recreated'),
      'the consumer to be made again',
      60_000,
    )
    t.match(made, { details: { startSeq: 3, sameStream: true } }, 'from stream sequence 3, the earliest held')
    open = true
    for (const resolve of waiters.splice(0)) resolve()
    await waitFor(() => got.includes(5), 'the entry published after the deletion', 60_000)
    await waitFor(() => status()['pendingAcks'] === 0, 'everything acknowledged')
    const count = (seq: number) => got.filter((s) => s === seq).length
    t.same(
      [count(1), count(2), count(5)],
      [1, 1, 1],
      'what was acknowledged before, and what came after: once',
    )
    t.ok(
      [3, 4].every((s) => count(s) >= 1 && count(s) <= 2),
      `the held ones: once or twice (${count(3)}, ${count(4)})`,
    )
    t.same([...new Set(got)].sort(), [1, 2, 3, 4, 5], 'nothing else')
  },
)

t.test(
  'collectors sharing a durable: a consumer made again starts at the server’s ack floor, not past a message another collector held',
  async (t) => {
    const server = await startServer(t)
    const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url, maxMessageEntries: 1 }), {
      report: () => {},
    })
    t.teardown(() => sink.close())
    const { createEntry } = await import('@logkit/core')
    const entry = (seq: number) => createEntry({ msg: `m${seq}`, hostname: 'h', pid: 1, seq })
    await sink.write([entry(1)])
    // The other collector: it takes message 1 and never acknowledges it (then
    // it is gone). The consumer waits a minute before it would send 1 again.
    const nc = await client(t, server.url)
    const jsm = await jetstreamManager(nc)
    await jsm.consumers.add('LOGKIT', {
      durable_name: 'shared',
      ack_policy: AckPolicy.Explicit,
      ack_wait: 60_000 * 1_000_000,
    })
    const other = await client(t, server.url)
    const taken = await (await jetstream(other).consumers.get('LOGKIT', 'shared')).fetch({
      max_messages: 1,
      expires: 5000,
    })
    const held: number[] = []
    for await (const m of taken) held.push(m.seq)
    t.same(held, [1], 'the other collector holds stream sequence 1, unacknowledged')

    const c = central(server.url, 'shared')
    t.teardown(() => c.pipeline.close())
    await c.pipeline.start()
    await sink.write([entry(2)])
    await sink.write([entry(3)])
    await waitFor(() => c.status()['acknowledged'] === 2, 'this collector wrote and acknowledged 2 and 3')
    await other.close()
    await jsm.consumers.delete('LOGKIT', 'shared')
    await written(sink, [entry(4)])
    const made = await waitFor(
      () => c.seen.find((d) => d.code === 'nats_consumer_recreated'),
      'the consumer to be made again',
      60_000,
    )
    t.match(
      made,
      { details: { startSeq: 1, sameStream: true } },
      'from sequence 1: the server’s floor (1 was never acknowledged), not past what this collector acknowledged',
    )
    await waitFor(
      () => c.sink.entries.some((e: LogEntry) => e.seq === 1),
      'the held entry, through this collector',
      60_000,
    )
    await waitFor(() => c.sink.entries.some((e: LogEntry) => e.seq === 4), 'and the one after')
    t.same(
      [...new Set(c.sink.entries.map((e: LogEntry) => e.seq))].sort(),
      [1, 2, 3, 4],
      'every entry arrived (2 and 3 maybe twice: dedupe removes them)',
    )
  },
)
