// What the sink runner does with a batch whose retries are spent: under
// `block` it holds it (never acknowledged while unwritten, demand pauses),
// under the drop policies it drops it (counted, acknowledged).

import { Observable } from 'rxjs'
import t from 'tap'
import type { Diagnostic } from '../src/diagnostics.js'
import { createEntry, type LogEntry } from '../src/entry.js'
import type { SourceContext } from '../src/plugin.js'
import { createPipeline } from '../src/runtime/pipeline.js'
import type { Sink } from '../src/sink.js'
import { waitFor } from '../src/testing/wait-for.js'

const entries = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    createEntry({ msg: `m${i + 1}`, seq: i + 1, app: 'test', source: 'unit' }),
  )

/** A source that emits `list` as demand allows, records its acks, and completes on close. */
function demandSource(list: LogEntry[]) {
  const acks: number[] = []
  let context: SourceContext | undefined
  let emitted = 0
  return {
    acks,
    emitted: () => emitted,
    context: () => context as SourceContext,
    component: {
      id: 'list',
      create(ctx: SourceContext) {
        context = ctx
        ctx.onAck((n) => acks.push(n))
        return new Observable<LogEntry>((subscriber) => {
          const pump = () => {
            while (emitted < list.length) {
              if (ctx.demand.paused) {
                void ctx.demand.ready().then(pump)
                return
              }
              subscriber.next(list[emitted++] as LogEntry)
            }
          }
          pump()
          ctx.signal.addEventListener('abort', () => subscriber.complete(), { once: true })
        })
      },
    },
  }
}

/** A sink that fails while `broken` (with `retryable` on its errors when given). */
function switchableSink(retryable?: boolean) {
  const written: LogEntry[] = []
  const state = { broken: true, attempts: 0 }
  const sink: Sink = {
    async write(batch) {
      state.attempts++
      if (state.broken) {
        const err = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
        if (retryable !== undefined) Object.assign(err, { retryable })
        throw err
      }
      written.push(...batch)
    },
  }
  return { sink, written, state }
}

const retry = { retries: 1, minDelayMs: 1, maxDelayMs: 4 }

/** A pipeline of `demandSource(entries(n))` into `sink`, with its diagnostics. */
function start(sink: Sink, n: number, queue: { capacity: number; policy: 'block' | 'drop_newest' }) {
  const source = demandSource(entries(n))
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    sources: [source.component],
    sinks: [{ id: 'disk', sink, queue: { ...queue, maxBatch: 2 }, retry }],
    onDiagnostic: (d) => diagnostics.push(d),
    diagnosticEntries: false,
  })
  return { source, diagnostics, pipeline }
}

t.test(
  'block: a batch whose retries are spent is held, not acknowledged; demand pauses; written once the sink recovers',
  async (t) => {
    const { sink, written, state } = switchableSink()
    const source = demandSource(entries(20))
    const diagnostics: Diagnostic[] = []
    const pipeline = createPipeline({
      sources: [source.component],
      sinks: [{ id: 'disk', sink, queue: { capacity: 4, maxBatch: 2, policy: 'block' }, retry }],
      onDiagnostic: (d) => diagnostics.push(d),
      diagnosticEntries: false,
    })
    await pipeline.start()
    await waitFor(() => diagnostics.some((d) => d.code === 'sink_holding'), 'the sink holding its batch')
    await waitFor(() => state.attempts >= 6, 'retries going on past the retry budget')
    let stats = pipeline.stats()
    const held = stats.sinks[0]?.held ?? 0
    t.ok(held > 0, `the batch in hand is held (${held} entries)`)
    t.equal(stats.sinks[0]?.failed, 0, 'nothing is counted failed while it is held')
    t.same(source.acks, [], 'nothing is acknowledged: the source keeps everything')
    t.ok(source.context().demand.paused, 'the full queue pauses demand: the source stops reading')
    t.ok(
      source.emitted() <= 4 + held,
      `the source emitted only what the queue (4) and the held batch bound (${source.emitted()} of 20)`,
    )
    await pipeline.flush()
    t.equal(
      pipeline.stats().sinks[0]?.held,
      held,
      'flush returns while the sink fails, and stats say what is held',
    )

    state.broken = false
    await waitFor(() => written.length === 20, 'every entry written once the sink recovers')
    await waitFor(() => source.acks.at(-1) === 20, 'every entry acknowledged')
    stats = pipeline.stats()
    t.same([stats.sinks[0]?.held, stats.sinks[0]?.failed], [0, 0], 'nothing held, nothing failed')
    t.same(
      written.map((e) => e.seq),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'written in order, once each',
    )
    t.ok(
      diagnostics.some((d) => d.code === 'sink_recovered'),
      'the recovery is reported',
    )
    t.notOk(
      diagnostics.some((d) => d.code === 'sink_failed'),
      'no sink_failed: nothing was lost',
    )
    await pipeline.close()
  },
)

t.test('block: at close, a batch still failing is counted failed and left unacknowledged', async (t) => {
  const { sink, state } = switchableSink()
  const { source, diagnostics, pipeline } = start(sink, 6, { capacity: 10, policy: 'block' })
  await pipeline.start()
  await waitFor(() => diagnostics.some((d) => d.code === 'sink_holding'), 'the sink holding its batch')
  const stats = await pipeline.close()
  t.equal(stats.sinks[0]?.failed, 6, 'the held batch and everything behind it count as failed')
  t.same(source.acks, [], 'none of them is acknowledged: a durable source delivers them again')
  const failed = diagnostics.filter((d) => d.code === 'sink_failed')
  t.equal(
    failed.reduce((n, d) => n + (d.count ?? 0), 0),
    6,
    'sink_failed reports all six with their count',
  )
  t.ok(state.attempts > 2, 'the held batch was retried past its budget before close')
})

t.test('drop_newest: a batch whose retries are spent is dropped, counted and acknowledged', async (t) => {
  const { sink } = switchableSink()
  const { source, diagnostics, pipeline } = start(sink, 4, { capacity: 10, policy: 'drop_newest' })
  await pipeline.start()
  await waitFor(() => pipeline.stats().sinks[0]?.failed === 4, 'both batches failed')
  t.equal(pipeline.stats().sinks[0]?.held, 0, 'nothing is held')
  t.notOk(
    diagnostics.some((d) => d.code === 'sink_holding'),
    'no sink_holding under a drop policy',
  )
  await waitFor(() => source.acks.at(-1) === 4, 'the failed entries acknowledged (decided)')
  const failed = diagnostics.filter((d) => d.code === 'sink_failed')
  t.same(
    [failed.reduce((n, d) => n + (d.count ?? 0), 0), [...new Set(failed.map((d) => d.details?.['policy']))]],
    [4, ['drop_newest']],
    'each failure is reported with its count and the policy that dropped it',
  )
  await pipeline.close()
})

t.test('an error with retryable: false fails its batch at once, even under block', async (t) => {
  const { sink, state } = switchableSink(false)
  const { diagnostics, pipeline } = start(sink, 2, { capacity: 10, policy: 'block' })
  await pipeline.start()
  await waitFor(() => pipeline.stats().sinks[0]?.failed === 2, 'the batch failed')
  t.equal(
    state.attempts,
    diagnostics.filter((d) => d.code === 'sink_failed').length,
    'one attempt per failed batch, no retries',
  )
  t.notOk(
    diagnostics.some((d) => d.code === 'sink_holding'),
    'not held',
  )
  await pipeline.close()
})

t.test('closing() is called before the runner waits for the sink to go idle', async (t) => {
  const order: string[] = []
  let wake = () => {}
  let stopping = false
  const sink: Sink = {
    async write() {
      if (stopping) return
      order.push('write')
      // A write that waits (a Retry-After) until the sink is told close is coming.
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      order.push('write done')
    },
    closing() {
      order.push('closing')
      stopping = true
      wake()
    },
    close() {
      order.push('close')
    },
  }
  const { source, pipeline } = start(sink, 2, { capacity: 10, policy: 'block' })
  await pipeline.start()
  await waitFor(() => order.includes('write'), 'the write to start')
  const stats = await pipeline.close()
  t.same(
    order,
    ['write', 'closing', 'write done', 'close'],
    'closing() woke the write; close() came after it',
  )
  t.equal(stats.sinks[0]?.written, 2, 'the write finished')
  t.same(source.acks.at(-1), 2, 'and was acknowledged')
})
