import { from, map, Observable, filter as rxFilter } from 'rxjs'
import t from 'tap'
import type { Diagnostic } from '../src/diagnostics.js'
import { createEntry, type LogEntry } from '../src/entry.js'
import { createLogger } from '../src/logger.js'
import { createMemoryChannel } from '../src/memory-channel.js'
import { coreOperators } from '../src/operators/core-operators.js'
import { markHolding } from '../src/operators/holds.js'
import type { SourceContext } from '../src/plugin.js'
import { useOperator } from '../src/plugin.js'
import { createPipeline } from '../src/runtime/pipeline.js'
import { QUEUE_DROP_FLAG } from '../src/runtime/sink-runner.js'
import { createMemorySink } from '../src/testing/memory-sink.js'
import { MAX_BATCH_ENTRIES } from '../src/wire/entry-batch.js'

const entries = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) =>
    createEntry({ msg: `m${from + i}`, seq: from + i, app: 'test', source: 'unit' }),
  )

const tick = () => new Promise((resolve) => setImmediate(resolve))

/** A source component that emits `list` at once (ignoring demand) and records its acks. */
function arraySource(list: LogEntry[], opts: { respectDemand?: boolean } = {}) {
  const acks: number[] = []
  let context: SourceContext | undefined
  return {
    acks,
    context: () => context as SourceContext,
    component: {
      id: 'array',
      create(ctx: SourceContext) {
        context = ctx
        ctx.onAck((n) => acks.push(n))
        return new Observable<LogEntry>((subscriber) => {
          let i = 0
          const pump = () => {
            while (i < list.length) {
              if (opts.respectDemand && ctx.demand.paused) {
                void ctx.demand.ready().then(pump)
                return
              }
              subscriber.next(list[i++] as LogEntry)
            }
            if (ctx.signal.aborted) subscriber.complete()
            else ctx.signal.addEventListener('abort', () => subscriber.complete(), { once: true })
          }
          pump()
        })
      },
    },
  }
}

t.test('entries flow from a logger through the memory channel to every sink, in order', async (t) => {
  const channel = createMemoryChannel()
  const log = createLogger({ app: 'demo', source: 'worker', transport: channel.transport })
  const a = createMemorySink()
  const b = createMemorySink()
  const pipeline = createPipeline({
    id: 'main',
    sources: [{ id: 'memory', create: channel.source }],
    sinks: [a, b],
    diagnosticEntries: false,
  })
  await pipeline.start()
  for (let i = 0; i < 10_000; i++) log.info({ i }, 'hello')
  await log.flush()
  await pipeline.flush()
  t.equal(a.entries.length, 10_000, 'sink a has all 10,000')
  t.equal(b.entries.length, 10_000, 'sink b has all 10,000')
  t.ok(
    a.entries.every((e, i) => e.seq === i + 1 && e.fields.get('i') === i),
    'seq is contiguous and fields match',
  )
  t.ok(a.flushes >= 1, 'flush reached the sink')
  const stats = await pipeline.close()
  t.equal(stats.state, 'closed', 'closed')
  t.equal(stats.in, 10_000, 'stats count 10,000 in')
  t.ok(a.closed && b.closed, 'both sinks closed')
  t.equal(stats.sources[0]?.acknowledged, 10_000, 'every entry acknowledged')
})

t.test('drop_newest: a full queue drops what arrives, counts it exactly and reports it', async (t) => {
  const diagnostics: Diagnostic[] = []
  const sink = createMemorySink({ manual: true })
  const source = arraySource(entries(100))
  const pipeline = createPipeline({
    sources: [source.component],
    sinks: [{ id: 'slow', sink, queue: { capacity: 10, policy: 'drop_newest' } }],
    onDiagnostic: (d) => diagnostics.push(d),
    diagnosticEntries: false,
  })
  await pipeline.start()
  await tick()
  const mid = pipeline.stats().sinks[0]
  t.equal(mid?.queued, 10, 'the queue holds its capacity')
  t.equal(mid?.dropped, 89, 'one write in flight, ten queued, 89 dropped')
  const closing = pipeline.close()
  while (sink.waiting > 0 || pipeline.state !== 'closed') {
    sink.release()
    await tick()
  }
  const stats = await closing
  t.same(
    sink.entries.map((e) => e.seq),
    [1, ...Array.from({ length: 10 }, (_, i) => i + 2)],
    'the first eleven were kept',
  )
  t.equal(stats.sinks[0]?.dropped, 89, 'drop count exact')
  const reported = diagnostics.filter((d) => d.code === 'dropped').reduce((n, d) => n + (d.count ?? 0), 0)
  t.equal(reported, 89, 'every drop was reported with its count')
  t.ok(
    diagnostics.filter((d) => d.code === 'dropped').every((d) => d.details?.[QUEUE_DROP_FLAG] === true),
    'the queue’s drop reports are marked as counted in the sink stats (compose must not count them twice)',
  )
  t.equal(stats.sources[0]?.acknowledged, 100, 'dropped entries are acknowledged too: they are decided')
})

t.test('drop_oldest: a full queue makes room by dropping its oldest entries', async (t) => {
  const sink = createMemorySink({ manual: true })
  const source = arraySource(entries(100))
  const pipeline = createPipeline({
    sources: [source.component],
    sinks: [{ sink, queue: { capacity: 10, policy: 'drop_oldest', maxBatch: 100 } }],
    diagnosticEntries: false,
  })
  await pipeline.start()
  const closing = pipeline.close()
  while (pipeline.state !== 'closed') {
    sink.release()
    await tick()
  }
  const stats = await closing
  t.same(
    sink.entries.map((e) => e.seq),
    [1, ...Array.from({ length: 10 }, (_, i) => 91 + i)],
    'the one in flight and the newest ten were kept',
  )
  t.equal(stats.sinks[0]?.dropped, 89, 'drop count exact')
})

t.test('block: a full queue pauses demand, sources stop reading, nothing is lost', async (t) => {
  // A small read chunk, so that most frames are still in the channel when demand pauses.
  const channel = createMemoryChannel({ chunkBytes: 4096 })
  const log = createLogger({ app: 'demo', transport: channel.transport })
  const sink = createMemorySink({ manual: true })
  let seen: SourceContext | undefined
  const pipeline = createPipeline({
    sources: [
      {
        create: (ctx) => {
          seen = ctx
          return channel.source(ctx)
        },
      },
    ],
    sinks: [{ sink, queue: { capacity: 100, policy: 'block', maxBatch: 50 } }],
    diagnosticEntries: false,
  })
  await pipeline.start()
  for (let i = 0; i < 1000; i++) log.info(`e${i}`)
  for (let i = 0; i < 5; i++) await tick()
  t.ok(seen?.demand.paused, 'demand is paused')
  t.ok(channel.stats().queuedBytes > 0, 'frames wait in the channel, unread')
  t.ok((pipeline.stats().sinks[0]?.queued ?? 0) <= 200, 'the sink queue stayed within its bound')
  while (sink.entries.length < 1000) {
    sink.release()
    await tick()
  }
  t.equal(pipeline.stats().sinks[0]?.dropped, 0, 'nothing dropped')
  t.same(
    sink.entries.map((e) => e.seq),
    Array.from({ length: 1000 }, (_, i) => i + 1),
    'all 1000 arrived in order',
  )
  t.notOk(seen?.demand.paused, 'demand resumed')
  await pipeline.close()
})

t.test(
  'block: a source that ignores demand is cut at capacity + max(capacity, MAX_BATCH_ENTRIES), counted',
  async (t) => {
    const sink = createMemorySink({ manual: true })
    const source = arraySource(entries(1100))
    const pipeline = createPipeline({
      sources: [source.component],
      sinks: [{ sink, queue: { capacity: 10, policy: 'block' } }],
      diagnosticEntries: false,
    })
    await pipeline.start()
    await tick()
    const s = pipeline.stats().sinks[0]
    t.equal(s?.queued, 10 + MAX_BATCH_ENTRIES, 'the queue stops at its bound')
    t.equal(s?.dropped, 1100 - 1 - 10 - MAX_BATCH_ENTRIES, 'the rest is dropped and counted')
    const closing = pipeline.close()
    while (pipeline.state !== 'closed') {
      sink.release()
      await tick()
    }
    await closing
  },
)

t.test('a failing sink is isolated: it is retried, reported, and the others get everything', async (t) => {
  const diagnostics: Diagnostic[] = []
  const bad = createMemorySink({ failAlways: true })
  const flaky = createMemorySink({ failFirst: 2 })
  const good = createMemorySink()
  const pipeline = createPipeline({
    sources: [from(entries(50))],
    sinks: [
      // A drop policy: a failed batch is dropped and counted (under block it
      // would be held, and its full queue would pause the others: sink-runner.test.ts).
      { id: 'bad', sink: bad, retry: { retries: 1, minDelayMs: 1 }, queue: { policy: 'drop_newest' } },
      { id: 'flaky', sink: flaky, retry: { retries: 3, minDelayMs: 1 } },
      { id: 'good', sink: good },
    ],
    onDiagnostic: (d) => diagnostics.push(d),
    diagnosticEntries: false,
  })
  await pipeline.start()
  const stats = await pipeline.closed
  t.equal(good.entries.length, 50, 'the good sink got all 50')
  t.equal(flaky.entries.length, 50, 'the flaky sink got all 50 after retries')
  t.equal(bad.entries.length, 0, 'the bad sink wrote nothing')
  t.equal(stats.sinks[0]?.failed, 50, 'the bad sink’s losses are counted')
  t.equal(
    bad.writes,
    4,
    'two batches (the first entry alone, then the 49 queued behind it), each tried twice',
  )
  const failed = diagnostics.filter((d) => d.code === 'sink_failed' && d.component === 'bad')
  t.equal(
    failed.reduce((n, d) => n + (d.count ?? 0), 0),
    50,
    'the failures are reported with their component and counts',
  )
  t.equal(stats.sinks[1]?.failed, 0, 'nothing of the flaky sink failed')
})

t.test('a sink that throws synchronously is isolated the same way', async (t) => {
  const good = createMemorySink()
  const pipeline = createPipeline({
    sources: [from(entries(5))],
    sinks: [
      {
        write() {
          throw new Error('sync boom')
        },
      },
      good,
    ],
    diagnosticEntries: false,
  })
  await pipeline.start()
  const stats = await pipeline.closed
  t.equal(good.entries.length, 5, 'the other sink got everything')
  t.equal(stats.sinks[0]?.failed, 5, 'the throwing sink’s losses counted')
})

t.test('acknowledgements: a source learns when its entries are written or consumed', async (t) => {
  const sink = createMemorySink({ manual: true })
  const source = arraySource(entries(10))
  const pipeline = createPipeline({
    sources: [source.component],
    // odd seqs are filtered out: consumed by an operator
    operators: [rxFilter((e: LogEntry) => e.seq % 2 === 0)],
    sinks: [{ sink, queue: { maxBatch: 2 } }],
    diagnosticEntries: false,
  })
  await pipeline.start()
  await tick()
  t.same(source.acks, [], 'nothing is released while entry 2, the first kept, waits for the sink')
  sink.release()
  await tick()
  await tick()
  t.equal(source.acks.at(-1), 2, 'after the first write (seq 2), done up to 2')
  while (sink.entries.length < 5) {
    sink.release()
    await tick()
  }
  await tick()
  t.equal(source.acks.at(-1), 10, 'all ten done once the sink has written the last')
  t.ok(
    source.acks.every((v, i) => i === 0 || v > (source.acks[i - 1] as number)),
    'acks only move forward',
  )
  await pipeline.close()
})

t.test(
  'acknowledgements through an operator that holds entries follow order, and flush releases them',
  async (t) => {
    const sink = createMemorySink()
    const source = arraySource(entries(10))
    let held: LogEntry[] = []
    let flushSignal: (() => void) | undefined
    // A minimal holding operator: keeps everything until the pipeline flushes.
    const holdAll = markHolding(
      (input: Observable<LogEntry>) =>
        new Observable<LogEntry[]>((subscriber) => {
          flushSignal = () => {
            if (held.length > 0) subscriber.next(held)
            held = []
          }
          return input.subscribe({
            next: (e) => held.push(e),
            complete: () => {
              flushSignal?.()
              subscriber.complete()
            },
          })
        }),
    )
    const pipeline = createPipeline({
      sources: [source.component],
      operators: [
        rxFilter((e: LogEntry) => e.seq !== 10),
        {
          id: 'hold',
          holds: true,
          // It promises to emit all it holds on each flush.
          create: (ctx) =>
            markHolding(
              (input: Observable<LogEntry>) => {
                ctx.flushes.subscribe(() => flushSignal?.())
                return holdAll(input)
              },
              { emitsOnFlush: true },
            ),
        },
      ],
      sinks: [sink],
      diagnosticEntries: false,
    })
    await pipeline.start()
    await tick()
    t.same(source.acks, [], 'nothing is acknowledged while the operator holds entries')
    await pipeline.flush()
    await tick()
    t.equal(sink.entries.length, 9, 'flush made the operator emit what it held')
    t.equal(source.acks.at(-1), 10, 'and everything up to the filtered last entry is done')
    await pipeline.close()
  },
)

t.test('flush waits for slow writes of everything accepted before it', async (t) => {
  const sink = createMemorySink({ delayMs: 20 })
  const source = arraySource(entries(30))
  const pipeline = createPipeline({
    sources: [source.component],
    sinks: [{ sink, queue: { maxBatch: 10 } }],
    diagnosticEntries: false,
  })
  await pipeline.start()
  await pipeline.flush()
  t.equal(sink.entries.length, 30, 'all 30 written when flush resolves')
  t.equal(sink.flushes, 1, 'then the sink was flushed')
  await pipeline.close()
})

t.test('an operator that throws is reported and restarted; the pipeline goes on', async (t) => {
  const diagnostics: Diagnostic[] = []
  const sink = createMemorySink()
  const pipeline = createPipeline({
    sources: [from(entries(5))],
    operators: [
      map((e: LogEntry) => {
        if (e.seq === 3) throw new Error('bad entry')
        return e
      }),
    ],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
  })
  await pipeline.start()
  await pipeline.closed
  t.same(
    sink.entries.filter((e) => e.source !== 'logkit').map((e) => e.seq),
    [1, 2, 4, 5],
    'only the entry in hand was lost',
  )
  t.ok(
    diagnostics.some((d) => d.code === 'operator_failed' && d.count === 1),
    'the failure is reported',
  )
  t.ok(
    sink.entries.some(
      (e) => e.source === 'logkit' && e.level === 50 && e.fields.get('code') === 'operator_failed',
    ),
    'and arrives in the sink as an error entry',
  )
})

t.test('a failing source is reported; the other sources keep flowing', async (t) => {
  const diagnostics: Diagnostic[] = []
  const sink = createMemorySink()
  const pipeline = createPipeline({
    sources: [
      new Observable<LogEntry>((s) => s.error(new Error('cannot open'))),
      {
        create: () => {
          throw new Error('cannot start')
        },
      },
      from(entries(3)),
    ],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
    diagnosticEntries: false,
  })
  await pipeline.start()
  await pipeline.closed
  t.equal(sink.entries.length, 3, 'the good source delivered')
  t.equal(diagnostics.filter((d) => d.code === 'source_failed').length, 2, 'both failures reported')
})

t.test('close cuts off a source that does not complete within the timeout', async (t) => {
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    sources: [new Observable<LogEntry>(() => {})],
    sinks: [createMemorySink()],
    onDiagnostic: (d) => diagnostics.push(d),
    closeTimeoutMs: 10,
  })
  await pipeline.start()
  const stats = await pipeline.close()
  t.equal(stats.state, 'closed', 'closed anyway')
  t.ok(
    diagnostics.some((d) => d.code === 'source_close_timeout'),
    'the cut-off is reported',
  )
})

t.test('state errors and empty pipelines are refused with codes', async (t) => {
  t.throws(() => createPipeline({ sources: [], sinks: [createMemorySink()] }), {
    code: 'LOGKIT_ERR_PIPELINE_EMPTY',
  })
  const pipeline = createPipeline({ sources: [from(entries(1))], sinks: [createMemorySink()] })
  await t.rejects(pipeline.flush(), { code: 'LOGKIT_ERR_PIPELINE_STATE' }, 'flush before start')
  await pipeline.start()
  await t.rejects(pipeline.start(), { code: 'LOGKIT_ERR_PIPELINE_STATE' }, 'start twice')
  await pipeline.closed
})

t.test('drops become warning entries that flow to the sinks', async (t) => {
  const slow = createMemorySink({ manual: true })
  const all = createMemorySink()
  const pipeline = createPipeline({
    app: 'demo',
    sources: [arraySource(entries(20)).component],
    sinks: [
      { id: 'slow', sink: slow, queue: { capacity: 5, policy: 'drop_newest' } },
      { id: 'all', sink: all },
    ],
  })
  await pipeline.start()
  const closing = pipeline.close()
  while (pipeline.state !== 'closed') {
    slow.release()
    await tick()
  }
  await closing
  const warning = all.entries.find((e) => e.source === 'logkit' && e.fields.get('code') === 'dropped')
  t.ok(warning, 'a warning entry arrived')
  t.equal(warning?.level, 40, 'at warn level')
  t.equal(warning?.app, 'demo', 'for the pipeline’s app')
  t.equal(warning?.fields.get('component'), 'slow', 'naming the sink')
  t.equal(warning?.fields.get('count'), 14, 'with the exact count')
})

t.test('drop_oldest never acknowledges a batch that is still being written', async (t) => {
  const sink = createMemorySink({ manual: true })
  const source = arraySource(entries(6))
  const pipeline = createPipeline({
    sources: [source.component],
    sinks: [{ sink, queue: { capacity: 2, policy: 'drop_oldest', maxBatch: 1 } }],
    diagnosticEntries: false,
  })
  await pipeline.start()
  await tick()
  t.equal(sink.waiting, 1, 'entry 1 is being written, and hangs')
  t.same(source.acks, [], 'nothing is acknowledged while entry 1 is unwritten, though 2–4 were dropped')
  const closing = pipeline.close()
  while (pipeline.state !== 'closed') {
    sink.release()
    await tick()
  }
  await closing
  t.equal(source.acks.at(-1), 6, 'all decided in the end')
})

t.test(
  'a holding operator that does not promise to emit on flush keeps its source unacknowledged until close',
  async (t) => {
    const sink = createMemorySink()
    const source = arraySource(entries(3))
    const held: LogEntry[] = []
    const pipeline = createPipeline({
      sources: [source.component],
      operators: [
        markHolding(
          (input: Observable<LogEntry>) =>
            new Observable<LogEntry[]>((subscriber) =>
              input.subscribe({
                next: (e) => held.push(e),
                complete: () => {
                  subscriber.next(held)
                  subscriber.complete()
                },
              }),
            ),
        ),
      ],
      sinks: [sink],
      diagnosticEntries: false,
    })
    await pipeline.start()
    await pipeline.flush()
    await tick()
    t.same(source.acks, [], 'a flush does not acknowledge what such an operator may still hold')
    await pipeline.close()
    t.equal(sink.entries.length, 3, 'it emitted them at close')
    t.equal(source.acks.at(-1), 3, 'and then they were acknowledged')
  },
)

t.test(
  'entries consumed in front of batch are acknowledged within a settle interval, with no later entry',
  async (t) => {
    const sink = createMemorySink()
    const source = arraySource(entries(4))
    const pipeline = createPipeline({
      sources: [source.component],
      operators: [
        useOperator(coreOperators.filter, { level: 'error' }),
        useOperator(coreOperators.batch, { size: 100, maxWaitMs: 60_000 }),
      ],
      sinks: [sink],
      diagnosticEntries: false,
    })
    await pipeline.start()
    const started = Date.now()
    while (source.acks.at(-1) !== 4 && Date.now() - started < 10_000)
      await new Promise((r) => setTimeout(r, 50))
    t.equal(source.acks.at(-1), 4, 'all four (filtered out) are acknowledged without waiting for close')
    await pipeline.close()
  },
)

t.test('an operator that throws behind a holding batch reports what the chain held as lost', async (t) => {
  const diagnostics: Diagnostic[] = []
  const sink = createMemorySink()
  const { state, component } = pushSource()
  const pipeline = createPipeline({
    sources: [component],
    operators: [
      useOperator(coreOperators.batch, { size: 1000, maxWaitMs: 60_000 }),
      map((batch: readonly LogEntry[]) => {
        if (batch.some((e) => e.seq === 7)) throw new Error('bad batch')
        return batch
      }),
    ],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
    diagnosticEntries: false,
  })
  await pipeline.start()
  state.push(entries(10))
  await pipeline.flush()
  const failed = diagnostics.find((d) => d.code === 'operator_failed')
  t.equal(failed?.count, 10, 'the ten entries the batch held are counted as lost')
  await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(state.acked, 10, 'and released to the source, so it does not keep them forever')
  state.push(entries(3, 11))
  await pipeline.flush()
  t.same(
    sink.entries.map((e) => e.seq),
    [11, 12, 13],
    'the restarted chain goes on with the next entries',
  )
  await pipeline.close()
})

/** A source that emits what is pushed into it and records its acknowledgements. */
function pushSource() {
  const state = { acked: 0, push: (_list: LogEntry[]) => {} }
  const component = {
    id: 'push',
    create(ctx: SourceContext) {
      ctx.onAck((n) => {
        state.acked = n
      })
      return new Observable<LogEntry>((subscriber) => {
        state.push = (list) => {
          for (const e of list) subscriber.next(e)
        }
        ctx.signal.addEventListener('abort', () => subscriber.complete(), { once: true })
      })
    },
  }
  return { state, component }
}
