// The producer panel's rows: counted from entries outside compose, taken from
// the collector's status under it (SinkContext.status, through a real
// pipeline), with exits and drops from the transports' diagnostic entries.

import { createEntry, createPipeline, diagnosticEntry, type LogEntry, useSink } from '@logkit/core'
import { waitFor } from '@logkit/core/testing'
import { Subject } from 'rxjs'
import t from 'tap'
import { httpSink } from '../src/index.js'
import { ProducerTable } from '../src/producers.js'
import { RateWindow } from '../src/rates.js'
import { getJson } from './helpers.js'

const entry = (pid: number, source: string, seq: number) =>
  createEntry({ pid, source, seq, msg: `${source} ${seq}` })
const diagnostic = (code: string, details: Record<string, unknown>, count?: number) =>
  diagnosticEntry(
    {
      code,
      stage: 'source',
      component: 'shm',
      message: code,
      details,
      ...(count === undefined ? {} : { count }),
    },
    'app',
  )

t.test('outside compose: rows counted from the entries, with seq gaps, drops and exits', async (t) => {
  const table = new ProducerTable()
  for (const seq of [1, 2, 3, 7, 8]) table.observe(entry(process.pid, 'api', seq), 1000 + seq)
  table.observe(entry(999_999_999, 'gone', 1), 1000)
  table.observe(diagnostic('dropped', { pid: process.pid, reason: 'dropped_by_producer' }, 4), 2000)
  table.observe(
    diagnostic('producer_exited', { pid: 999_999_999, source: 'gone', salvaged: 3, clean: false }),
    2000,
  )
  table.observe(
    diagnostic('producer_exited', { pid: 888_888_888, source: 'early', salvaged: 9, clean: false }),
    2000,
  )
  table.observe(diagnostic('sink_failed', { pid: 1 }), 2000)
  table.observe(diagnostic('dropped', {}, 1), 2000)
  const rows = table.rows()
  const api = rows.find((r) => r.source === 'api')
  t.match(
    api,
    { entries: 5, lastSeq: 8, seqGaps: 3, drops: 4, exited: false, alive: true },
    'api: 5 entries, 3 missing seqs, 4 dropped, alive',
  )
  t.match(
    rows.find((r) => r.source === 'gone'),
    { exited: true, clean: false, salvaged: 3, alive: false },
    'an exited producer with its salvage',
  )
  t.match(
    rows.find((r) => r.source === 'early'),
    { pid: 888_888_888, entries: 0, exited: true, salvaged: 9 },
    'one that exited before it was counted still shows',
  )
  t.equal(rows.length, 3, 'other diagnostics make no rows')
})

t.test('the collector status, when given, is the base of the rows', async (t) => {
  const table = new ProducerTable()
  table.observe(entry(4242, 'api', 1), 1000)
  const rows = table.rows({
    producers: [
      { pid: 4242, source: 'api', entries: 50, perSecond: 7, lastSeq: 50, seqGaps: 2, lastSeenMs: 5 },
    ],
  })
  t.match(rows, [{ pid: 4242, entries: 50, perSecond: 7, seqGaps: 2 }], "the status's own counts")
})

t.test('the table is bounded: the least recently seen goes', async (t) => {
  const table = new ProducerTable(2)
  table.observe(entry(1, 'a', 1), 1)
  table.observe(entry(2, 'b', 1), 2)
  table.observe(entry(3, 'c', 1), 3)
  table.observe(diagnostic('dropped', { pid: 1 }, 1), 4)
  table.observe(diagnostic('dropped', { pid: 2 }, 1), 5)
  table.observe(diagnostic('dropped', { pid: 3 }, 1), 6)
  t.same(
    table.rows().map((r) => r.source),
    ['b', 'c'],
    'a, the oldest, went',
  )
})

t.test('rates: per source and level, in buckets; more series than the bound count as (other)', async (t) => {
  const rates = new RateWindow(1000, 3, 2)
  rates.add('a', 30, 10_000)
  rates.add('a', 30, 10_500)
  rates.add('b', 50, 11_000)
  rates.add('c', 30, 11_000)
  const snap = rates.snapshot(11_000)
  t.same(
    snap.series.map((s) => [s.source, s.level, s.counts]),
    [
      ['a', 30, [0, 2, 0]],
      ['b', 50, [0, 0, 1]],
      ['(other)', 30, [0, 0, 1]],
    ],
    'counts per bucket, oldest first',
  )
  t.same(rates.snapshot(20_000).series, [], 'series with nothing left in the window go')
})

t.test('in a pipeline, the sink gets the collector status through SinkContext.status', async (t) => {
  const status = {
    producers: [
      { pid: 4242, source: 'from-status', entries: 9, perSecond: 1, lastSeq: 9, seqGaps: 0, lastSeenMs: 1 },
    ],
  }
  const input = new Subject<LogEntry>()
  let url: string | undefined
  const pipeline = createPipeline({
    id: 'web',
    app: 'webapp',
    sources: [input],
    sinks: [useSink(httpSink, { port: 0 })],
    status: () => status,
    onDiagnostic: (d) => {
      if (d.code === 'listening') url = d.details?.['url'] as string
    },
  })
  await pipeline.start()
  await waitFor(() => url, 'the listening diagnostic with the URL')
  input.next(entry(1, 'x', 1))
  let seen: Record<string, unknown> = {}
  await waitFor(() => {
    void getJson(`${url}status`)
      .then((s) => (seen = s))
      .catch(() => {})
    return seen['lastId'] === 1
  }, 'the entry to reach the view')
  t.equal(seen['title'], 'webapp', "the page's title is the app")
  t.match(
    seen['producers'],
    [{ pid: 4242, source: 'from-status', entries: 9 }],
    'the rows come from the status',
  )
  t.same(seen['collector'], status, 'and the status is there whole')
  input.complete()
  await pipeline.closed
  await t.rejects(fetch(`${url}status`), 'the view is closed with the pipeline')
})

t.test(
  'a pid that comes back with its seq begun again is a new producer, not the one that exited',
  async (t) => {
    const table = new ProducerTable()
    const pid = process.pid // alive: the new run is this process
    for (const seq of [1, 2, 3]) table.observe(entry(pid, 'api', seq), 1000 + seq)
    table.observe(diagnostic('producer_exited', { pid, source: 'api', salvaged: 2, clean: false }), 2000)
    t.match(table.rows()[0], { pid, exited: true, alive: false }, 'first: exited')
    table.observe(diagnostic('dropped', { pid, reason: 'dropped_by_producer' }, 4), 2100)
    table.observe(entry(pid, 'api', 1), 3000)
    table.observe(entry(pid, 'api', 2), 3001)
    const rows = table.rows()
    t.equal(rows.length, 1, 'one row for the pid')
    t.match(
      rows[0],
      { pid, entries: 2, lastSeq: 2, seqGaps: 0, drops: 0, exited: false, alive: true },
      'the new run: counted from its own entries, alive, not exited',
    )
    t.notOk('salvaged' in (rows[0] ?? {}), 'no salvage of the old run on it')
    const other = new ProducerTable()
    other.observe(diagnostic('producer_exited', { pid, source: 'api', salvaged: 2, clean: true }), 2000)
    other.observe(entry(pid, 'api', 5), 2001)
    t.match(other.rows()[0], { exited: true }, 'an entry that does not begin a run (seq 5) keeps the exit')
  },
)

t.test(
  'rate series stay bounded whatever levels come: past maxSeries, one (other) per standard level',
  async (t) => {
    const rates = new RateWindow(5000, 60, 64)
    for (let level = 0; level < 100_000; level++) rates.add(`s${level % 10}`, level, 1_000)
    const { series } = rates.snapshot(1_000)
    t.ok(series.length <= 64 + 6, `at most 64 series and six (other) (got ${series.length})`)
    const other = series.filter((s) => s.source === '(other)')
    t.ok(other.length >= 1 && other.length <= 6, `the rest under (other), by level (${other.length})`)
    t.equal(
      series.reduce((sum, s) => sum + s.counts.reduce((a, b) => a + b, 0), 0),
      100_000,
      'every entry counted once',
    )
  },
)
