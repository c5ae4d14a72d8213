// The runtime's byte path: sources that emit EntryBatch values (entries that
// are still bytes), operators that take them or get them decoded, sinks that
// take them (writeEntries) or get entries, acknowledgement by position, the
// sink queue's policies over batches, and sources shared by pipelines.

import { bufferCount, map, Observable, filter as rxFilter } from 'rxjs'
import t from 'tap'
import type { Diagnostic } from '../src/diagnostics.js'
import { createEntry, type LogEntry } from '../src/entry.js'
import { FrameEncoder } from '../src/framing.js'
import { markHolding, markTakesBatches } from '../src/operators/holds.js'
import type { SourceContext } from '../src/plugin.js'
import { createPipeline, type SinkInput, type SourceItem } from '../src/runtime/pipeline.js'
import { shareSource } from '../src/runtime/shared-source.js'
import type { Sink } from '../src/sink.js'
import { createMemorySink } from '../src/testing/memory-sink.js'
import { waitFor } from '../src/testing/wait-for.js'
import { EntryBatch, isEntryBatch, MAX_BATCH_ENTRIES } from '../src/wire/entry-batch.js'
import { EntryIndex, SPAN_ENTRY, SPAN_STRIDE } from '../src/wire/entry-index.js'

const encoder = new FrameEncoder()

/** A batch of these entries as one real frame, indexed. */
function batchOf(list: LogEntry[]): EntryBatch {
  const buf = Buffer.from(encoder.batch(list))
  const index = new EntryIndex()
  index.index(buf)
  return EntryBatch.of(index)
}

const entries = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) =>
    createEntry({ msg: `m${from + i}`, seq: from + i, level: (i % 3) * 10 + 30, app: 'a', source: 's' }),
  )

/** A source that emits `items` at once, records its acks, and completes on abort. */
function itemSource(items: SourceItem[]) {
  const acks: number[] = []
  return {
    acks,
    get acked() {
      return acks.at(-1) ?? 0
    },
    component: {
      id: 'bytes',
      create(ctx: SourceContext) {
        ctx.onAck((n) => acks.push(n))
        return new Observable<SourceItem>((subscriber) => {
          for (const item of items) subscriber.next(item)
          if (ctx.signal.aborted) subscriber.complete()
          else ctx.signal.addEventListener('abort', () => subscriber.complete(), { once: true })
        })
      },
    },
  }
}

/** A sink that takes batches, keeping what it was handed (decoded at once: the bytes are the source's). */
function bytesSink() {
  const got = { batches: 0, seqs: [] as number[], writes: 0 }
  const sink: Sink = {
    write(batch) {
      got.writes += batch.length
    },
    writeEntries(batches) {
      for (const batch of batches) {
        got.batches++
        for (let k = 0; k < batch.length; k++) got.seqs.push(batch.index.seq[batch.row(k)] as number)
      }
    },
  }
  return { got, sink }
}

/** A sink that takes batches and resolves each write only when release() is called. */
function manualBytesSink() {
  const got = { seqs: [] as number[] }
  let waiting: (() => void)[] = []
  const sink: Sink = {
    write() {
      throw new Error('entries were decoded for a sink that takes batches')
    },
    writeEntries(batches) {
      for (const batch of batches) {
        for (let k = 0; k < batch.length; k++) got.seqs.push(batch.index.seq[batch.row(k)] as number)
      }
      return new Promise<void>((resolve) => waiting.push(resolve))
    },
  }
  const release = () => {
    for (const resolve of waiting.splice(0)) resolve()
    waiting = []
  }
  return { got, sink, release }
}

function run(source: ReturnType<typeof itemSource>, sinks: SinkInput[], operators: unknown[] = []) {
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    sources: [source.component],
    // biome-ignore lint/suspicious/noExplicitAny: operators of any shape, as a manifest gives them
    operators: operators as any[],
    sinks,
    diagnosticEntries: false,
    onDiagnostic: (d) => diagnostics.push(d),
  })
  return { pipeline, diagnostics }
}

t.test(
  'a sink with writeEntries gets the batches themselves; acknowledgement counts every row',
  async (t) => {
    const source = itemSource([batchOf(entries(5)), batchOf(entries(4, 6)), batchOf(entries(6, 10))])
    const { got, sink } = bytesSink()
    const { pipeline } = run(source, [sink])
    await pipeline.start()
    await pipeline.flush()
    t.same(
      got.seqs,
      entries(15).map((e) => e.seq),
      'every entry, in order, from the bytes',
    )
    t.equal(got.writes, 0, 'nothing was decoded for write()')
    await waitFor(() => source.acked === 15, 'acknowledged')
    const stats = await pipeline.close()
    t.equal(stats.in, 15, 'the pipeline counts entries, not batches')
    t.equal(stats.out, 15)
    t.equal(stats.sinks[0]?.written, 15)
  },
)

t.test('a sink without writeEntries gets the entries decoded, as decodeFrame gives them', async (t) => {
  const list = entries(7)
  const source = itemSource([batchOf(list)])
  const sink = createMemorySink()
  const { pipeline } = run(source, [sink])
  await pipeline.start()
  await pipeline.flush()
  t.same(
    sink.entries.map((e) => [e.seq, e.msg, e.level, e.app, e.source, e.time]),
    list.map((e) => [e.seq, e.msg, e.level, e.app, e.source, e.time]),
  )
  await waitFor(() => source.acked === 7, 'acknowledged')
  await pipeline.close()
})

t.test('a user operator gets entries one by one; a holding one is acknowledged row by row', async (t) => {
  const source = itemSource([batchOf(entries(5))])
  const sink = createMemorySink()
  const seen: unknown[] = []
  const user = map((entry: LogEntry) => {
    seen.push(entry)
    return entry
  })
  // Holds entries in threes: after the batch of 5, rows 1–3 are out, rows 4–5 held.
  const holder = markHolding((source: Observable<LogEntry>) => source.pipe(bufferCount(3)))
  const { pipeline } = run(source, [sink], [user, holder])
  await pipeline.start()
  await waitFor(() => sink.entries.length === 3, 'the first three written')
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.ok(
    seen.every((e) => !isEntryBatch(e) && typeof (e as LogEntry).msg === 'string'),
    'the user operator saw LogEntry values only',
  )
  t.equal(source.acked, 3, 'acknowledged up to the last row written, not the whole batch')
  await pipeline.close()
  t.equal(sink.entries.length, 5, 'the held rows came out at close')
  t.equal(source.acked, 5, 'and were acknowledged')
})

t.test('an operator that takes batches drops rows without decoding; the rest is acknowledged', async (t) => {
  const source = itemSource([batchOf(entries(9)), createEntry({ msg: 'plain', seq: 0 })])
  const { got, sink } = bytesSink()
  const plain = createMemorySink()
  let entriesSeen = 0
  const levelAtLeast40 = markTakesBatches((items: Observable<SourceItem>) =>
    items.pipe(
      map((item) => {
        if (!isEntryBatch(item)) {
          entriesSeen++
          return item
        }
        const rows = new Int32Array(item.length)
        let n = 0
        for (let k = 0; k < item.length; k++) {
          const row = item.row(k)
          if ((item.index.level[row] as number) >= 40) rows[n++] = row
        }
        return item.withRows(rows, n)
      }),
    ),
  )
  const { pipeline } = run(source, [sink, plain], [levelAtLeast40])
  await pipeline.start()
  await pipeline.flush()
  const kept = entries(9)
    .filter((e) => e.level >= 40)
    .map((e) => e.seq)
  t.same(got.seqs, kept, 'the rows it kept, from the bytes')
  t.same(
    plain.entries.filter((e) => e.seq !== 0).map((e) => e.seq),
    kept,
    'a second sink got the same rows, decoded',
  )
  t.equal(entriesSeen, 1, 'the plain entry went through it as an entry')
  await waitFor(() => source.acked === 10, 'every position acknowledged, dropped rows too')
  await pipeline.close()
})

t.test('a batch emptied by an operator is consumed: nothing is written, it is acknowledged', async (t) => {
  const source = itemSource([batchOf(entries(4))])
  const { got, sink } = bytesSink()
  const none = markTakesBatches((items: Observable<SourceItem>) =>
    items.pipe(map((item) => (isEntryBatch(item) ? item.withRows(item.rows, 0) : item))),
  )
  const { pipeline } = run(source, [sink], [none])
  await pipeline.start()
  await waitFor(() => source.acked === 4, 'acknowledged')
  t.equal(got.batches, 0, 'the sink was given nothing')
  await pipeline.close()
})

/** Makes row k of the batch's index undecodable, as a producer writing over a published frame would. */
function corruptRow(batch: EntryBatch, k: number): void {
  const start = batch.index.spans[batch.row(k) * SPAN_STRIDE + SPAN_ENTRY] as number
  batch.index.buf[start] = 0x0f // field 1 with wire type 7: not protobuf
}

t.test(
  'an entry whose bytes changed after they were read is skipped and counted; the rest go on',
  async (t) => {
    for (const where of ['in front of an operator', 'for a sink that takes entries']) {
      const batch = batchOf(entries(5))
      corruptRow(batch, 2)
      const source = itemSource([batch])
      const sink = createMemorySink()
      const operators = where === 'in front of an operator' ? [rxFilter((e: LogEntry) => e.seq > 0)] : []
      const { pipeline, diagnostics } = run(source, [sink], operators)
      await pipeline.start()
      await pipeline.flush()
      t.same(
        sink.entries.map((e) => e.seq),
        [1, 2, 4, 5],
        `${where}: the other four written, in order`,
      )
      const corrupt = diagnostics.filter((d) => d.code === 'frame_corrupt')
      t.same(
        corrupt.map((d) => d.count),
        [1],
        `${where}: counted once`,
      )
      await waitFor(() => source.acked === 5, 'acknowledged')
      await pipeline.close()
    }
  },
)

t.test('sink queue policies over batches count rows exactly', async (t) => {
  const cases = [
    // A batch of 5 into a queue of 3 while the sink is busy with the first batch.
    { policy: 'drop_newest', kept: [1, 2, 3, 4, 5, 6], dropped: 2 },
    { policy: 'drop_oldest', kept: [1, 2, 3, 6, 7, 8], dropped: 2 },
    { policy: 'block', kept: [1, 2, 3, 4, 5, 6, 7, 8], dropped: 0 },
  ] as const
  for (const { policy, kept, dropped } of cases) {
    const source = itemSource([batchOf(entries(3)), batchOf(entries(5, 4))])
    const { got, sink, release } = manualBytesSink()
    const { pipeline } = run(source, [{ sink, queue: { capacity: 3, policy } }])
    await pipeline.start()
    await waitFor(() => got.seqs.length > 0, 'first write in flight')
    while (got.seqs.length < kept.length) {
      release()
      await new Promise((resolve) => setImmediate(resolve))
    }
    release()
    const stats = await pipeline.close()
    t.same(got.seqs, kept, `${policy}: the rows kept`)
    t.equal(stats.sinks[0]?.dropped, dropped, `${policy}: the rows dropped, counted`)
    t.equal(source.acked, 8, `${policy}: every position acknowledged`)
  }
})

t.test('pipelines sharing a source each get every batch and acknowledge on their own', async (t) => {
  const source = itemSource([batchOf(entries(6)), batchOf(entries(6, 7))])
  const [a, b] = shareSource(source.component, 2)
  const all = bytesSink()
  const audit = createMemorySink({ manual: true })
  const pa = createPipeline({ id: 'all', sources: [a as never], sinks: [all.sink], diagnosticEntries: false })
  const pb = createPipeline({
    id: 'audit',
    sources: [b as never],
    operators: [rxFilter((e: LogEntry) => e.seq % 2 === 0)],
    sinks: [audit],
    diagnosticEntries: false,
  })
  await Promise.all([pa.start(), pb.start()])
  await waitFor(() => all.got.seqs.length === 12 && audit.waiting > 0, 'all written, audit writing')
  t.equal(source.acked, 0, 'nothing released while the audit pipeline has not written it')
  while (audit.entries.length < 6) {
    audit.release()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(
    audit.entries.map((e) => e.seq),
    [2, 4, 6, 8, 10, 12],
    'the audit pipeline got its entries decoded',
  )
  await waitFor(() => source.acked === 12, 'released once both are done')
  await pa.close()
  await pb.close()
})

t.test('one index handed over as several batches: each row keeps its own position', async (t) => {
  const whole = batchOf(entries(6))
  const rows = whole.rows
  // Rows 0–2 and 3–5 as two batches, as a source splits a long run.
  const first = new EntryBatch(whole.index, rows.subarray(0, 3), 3, 0, 3)
  const second = new EntryBatch(whole.index, rows.subarray(3, 6), 3, 3, 3)
  const source = itemSource([first, second])
  const sink = createMemorySink()
  const holder = markHolding((source: Observable<LogEntry>) => source.pipe(bufferCount(4)))
  const { pipeline } = run(source, [sink], [holder])
  await pipeline.start()
  await waitFor(() => sink.entries.length === 4, 'the first four written')
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(source.acked, 4, 'acknowledged up to the fourth row, inside the second batch')
  await pipeline.close()
  t.same(
    sink.entries.map((e) => e.seq),
    [1, 2, 3, 4, 5, 6],
  )
  t.equal(source.acked, 6)
})

t.test('batches decoded whole in front of an operator stay within a block queue’s bound', async (t) => {
  // A source that respects demand, emitting batches of MAX_BATCH_ENTRIES into a queue of 10.
  const list = Array.from({ length: 4 }, (_, i) =>
    batchOf(entries(MAX_BATCH_ENTRIES, 1 + i * MAX_BATCH_ENTRIES)),
  )
  const acks: number[] = []
  const component = {
    id: 'demanding',
    create(ctx: SourceContext) {
      ctx.onAck((n) => acks.push(n))
      return new Observable<SourceItem>((subscriber) => {
        const pump = () => {
          while (list.length > 0 && !ctx.demand.paused) subscriber.next(list.shift() as EntryBatch)
          if (ctx.signal.aborted) subscriber.complete()
        }
        const stop = ctx.demand.onResume(pump)
        ctx.signal.addEventListener('abort', pump, { once: true })
        pump()
        return stop
      })
    },
  }
  const sink = createMemorySink()
  const pipeline = createPipeline({
    sources: [component],
    operators: [map((e: LogEntry) => e)],
    sinks: [{ sink, queue: { capacity: 10, policy: 'block' } }],
    diagnosticEntries: false,
  })
  await pipeline.start()
  await waitFor(() => sink.entries.length === 4 * MAX_BATCH_ENTRIES, 'every entry')
  const stats = await pipeline.close()
  t.equal(stats.sinks[0]?.dropped, 0, 'nothing dropped as demand_ignored')
  t.equal(acks.at(-1), 4 * MAX_BATCH_ENTRIES, 'all acknowledged')
})
