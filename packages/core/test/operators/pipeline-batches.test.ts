// filter and rateLimit in a pipeline whose source emits batches of entries
// that are still bytes: the batches go through both operators to a sink that
// takes bytes (writeEntries) without ever being decoded for it, and an
// operator of the user's (a plain rxjs map) after them gets LogEntry values.

import { from, map, Observable, toArray, VirtualTimeScheduler } from 'rxjs'
import t from 'tap'
import type { LogEntry } from '../../src/entry.js'
import { Fields } from '../../src/fields.js'
import { coreOperators } from '../../src/operators/core-operators.js'
import { type FilterOptions, filter } from '../../src/operators/filter.js'
import { rateLimit } from '../../src/operators/rate-limit.js'
import { useOperator } from '../../src/plugin.js'
import { createPipeline, type SourceItem } from '../../src/runtime/pipeline.js'
import type { Sink } from '../../src/sink.js'
import { createMemorySink } from '../../src/testing/memory-sink.js'
import { type EntryBatch, isEntryBatch } from '../../src/wire/entry-batch.js'
import { random } from '../helpers.js'
import { batchOf, decodedItems, framesOf, poolEntry } from './batch-entries.js'

const FILTER: FilterOptions = { level: 'info', source: ['db.*', 'http', 'cache'] }
const LIMIT = { perSecond: 1, burst: 100, key: 'app' } as const

/** Ten batches of 300 entries, each a whole index of its own (seq 1 … 3000). */
function sourceBatches(): EntryBatch[] {
  const rnd = random(77)
  return Array.from({ length: 10 }, (_, b) =>
    batchOf(
      framesOf(
        rnd,
        Array.from({ length: 300 }, (_, i) => poolEntry(rnd, b * 300 + i + 1)),
      ),
    ),
  )
}

/** What filter → rateLimit keep of the batches' entries, decoded, on the entry path: [seqs, summaries]. */
function expected(batches: readonly EntryBatch[]): { seqs: number[]; dropped: number[] } {
  let out: LogEntry[] = []
  from(decodedItems(batches))
    .pipe(filter(FILTER), rateLimit({ ...LIMIT, scheduler: new VirtualTimeScheduler() }), toArray())
    .subscribe((all) => {
      out = all
    })
  return {
    seqs: out.filter((e) => e.seq > 0).map((e) => e.seq),
    dropped: out.filter((e) => e.seq === 0).map((e) => e.fields.get('dropped') as number),
  }
}

function batchSource(batches: readonly EntryBatch[]): Observable<SourceItem> {
  return new Observable<SourceItem>((subscriber) => {
    for (const batch of batches) subscriber.next(batch)
    subscriber.complete()
  })
}

t.test(
  'filter and rateLimit hand batches on to a sink that takes bytes, never decoded entries',
  async (t) => {
    const batches = sourceBatches()
    const want = expected(batches)
    t.ok(
      want.seqs.length > 400 && want.dropped.length === 1,
      'the entry path keeps some entries and drops others',
    )
    const written: number[] = []
    const entries: LogEntry[] = []
    let nonBatches = 0
    const sink: Sink = {
      writeEntries(given) {
        for (const batch of given) {
          if (!isEntryBatch(batch)) nonBatches++
          // The bytes are valid until this write settles: read them now.
          for (const entry of batch.entries()) written.push(entry.seq)
        }
      },
      write(given) {
        entries.push(...given)
      },
    }
    const pipeline = createPipeline({
      id: 'bytes',
      sources: [batchSource(batches)],
      // As a manifest makes them: the definitions, with the pipeline's scheduler.
      operators: [useOperator(coreOperators.filter, FILTER), useOperator(coreOperators.rateLimit, LIMIT)],
      sinks: [sink],
      scheduler: new VirtualTimeScheduler(),
    })
    await pipeline.start()
    const stats = await pipeline.closed
    t.equal(nonBatches, 0, 'writeEntries got only batches')
    t.same(written, want.seqs, 'the sink got, as bytes, exactly the entries the entry path keeps, in order')
    t.same(
      entries.map((e) => [e.source, e.seq]),
      [['logkit', 0]],
      'write() got no entry of the source: only the summary of what rateLimit dropped',
    )
    t.equal(
      entries[0]?.fields.get('dropped'),
      want.dropped[0],
      'the summary counts the drops the entry path counts',
    )
    t.equal(
      stats.sources[0]?.acknowledged,
      3000,
      'every position is acknowledged, the dropped rows with the rest',
    )
    t.end()
  },
)

t.test('an operator of the user after filter and rateLimit gets LogEntry values', async (t) => {
  const batches = sourceBatches()
  const want = expected(batches)
  const seen: unknown[] = []
  const sink = createMemorySink()
  const pipeline = createPipeline({
    id: 'user',
    sources: [batchSource(batches)],
    operators: [
      filter(FILTER),
      rateLimit({ ...LIMIT, scheduler: new VirtualTimeScheduler() }),
      map((entry: LogEntry) => {
        seen.push(entry)
        return entry
      }),
    ],
    sinks: [sink],
  })
  await pipeline.start()
  const stats = await pipeline.closed
  t.equal(
    seen.length,
    want.seqs.length + want.dropped.length,
    'the user operator got every kept entry and the summary',
  )
  t.ok(
    seen.every((item) => !isEntryBatch(item) && (item as LogEntry).fields instanceof Fields),
    'each of them a decoded LogEntry, none a batch',
  )
  t.same(
    sink.entries.filter((e) => e.seq > 0).map((e) => e.seq),
    want.seqs,
    'the sink got the entries the entry path keeps',
  )
  t.equal(stats.sources[0]?.acknowledged, 3000, 'every position is acknowledged')
  t.end()
})
