// Four producer processes, 100,000 entries each, through their pipes into one
// collector: every entry arrives once, in order, and nothing is reported lost.

import { createPipeline, type Diagnostic, useSource } from '@logkit/core'
import { createMemorySink } from '@logkit/core/testing'
import t from 'tap'
import { fifoSource } from '../src/index.js'
import { contiguous, countOf, entriesOf, producer, runtimeEnv, statsOf, waitFor } from './helpers.js'

const PRODUCERS = 4
const ENTRIES = 100_000

t.test('4 producers × 100,000 entries: every entry once, seq contiguous per producer', async (t) => {
  const env = runtimeEnv()
  const sink = createMemorySink()
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    app: 'bulk',
    sources: [useSource(fifoSource, { env, scanMs: 100 })],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
  })
  await pipeline.start()
  const children = Array.from({ length: PRODUCERS }, (_, i) =>
    producer({ app: 'bulk', source: `worker${i}` }, env),
  )
  t.teardown(() => {
    for (const child of children) child.kill()
  })
  await Promise.all(children.map((c) => c.ready()))
  const started = Date.now()
  const results = await Promise.all(
    children.map(async (c) => {
      await c.command(`log ${ENTRIES} 2000 1 0`)
      return statsOf(await c.command('close'))
    }),
  )
  await waitFor(
    () => diagnostics.filter((d) => d.code === 'producer_exited').length === PRODUCERS,
    'every producer reaped',
  )
  const elapsed = Date.now() - started
  await pipeline.close()
  t.comment(`${PRODUCERS * ENTRIES} entries through ${PRODUCERS} pipes in ${elapsed} ms (not a benchmark)`)

  for (const [i, child] of children.entries()) {
    const got = entriesOf(sink.entries, child.pid)
    t.equal(results[i]?.logger.seq, ENTRIES, `worker${i} logged ${ENTRIES} entries`)
    t.equal(results[i]?.logger.dropped, 0, `worker${i} dropped nothing`)
    t.equal(got.length, ENTRIES, `worker${i}: every entry arrived exactly once`)
    t.ok(
      contiguous(
        got.map((e) => e.seq),
        1,
        ENTRIES,
      ),
      `worker${i}: seq runs 1…${ENTRIES} without a gap, a repeat or a swap`,
    )
    t.ok(
      got.every((e) => e.source === `worker${i}` && e.app === 'bulk'),
      `worker${i}: entries carry their source and app`,
    )
    t.equal(got[ENTRIES - 1]?.msg, `entry ${ENTRIES}`, `worker${i}: the last entry is the last one logged`)
    t.equal(countOf(diagnostics, 'seq_gap', child.pid), 0, `worker${i}: no gap reported`)
    t.equal(countOf(diagnostics, 'dropped', child.pid), 0, `worker${i}: no drop reported`)
    const exited = diagnostics.find((d) => d.code === 'producer_exited' && d.details?.['pid'] === child.pid)
    t.match(
      exited,
      { level: 30, details: { source: `worker${i}`, lastSeq: ENTRIES, goodbye: true } },
      `worker${i}: reaped after a goodbye, with its last seq`,
    )
  }
  t.same(
    diagnostics.filter((d) => d.code !== 'producer_exited').map((d) => d.code),
    [],
    'no other diagnostic',
  )
})
