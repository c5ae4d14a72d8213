// The free-space guard, against the real file system: a threshold above the
// free space trips it, the policy applies (drop: counted and reported; block:
// the write waits), and lowering the threshold at run time lifts it.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, createMemoryChannel, createPipeline, type Diagnostic } from '@logkit/core'
import t from 'tap'
import { createFileSink } from '../src/index.js'
import { diagnostics, entries, messages } from './helpers.js'

/** Far more than any disk here has free. */
const ABOVE_FREE = Number.MAX_SAFE_INTEGER

t.test(
  'drop: below the threshold batches are dropped, counted and reported; lowering it resumes',
  async (t) => {
    const path = join(t.testdir(), 'app.log')
    const seen = diagnostics()
    const sink = createFileSink({ path, minFreeBytes: ABOVE_FREE, policy: 'drop' }, { report: seen.report })
    await sink.write(entries(5, 1))
    await sink.write(entries(3, 6))
    t.equal(readFileSync(path, 'utf8'), '', 'nothing was written')
    t.equal(sink.stats.dropped, 8, 'all 8 entries counted as dropped')
    t.ok(sink.stats.diskLow, 'stats say the disk is low')
    t.same(seen.codes(), ['disk_low'], 'disk_low is reported once when the guard trips')

    sink.setMinFreeBytes('1KiB')
    await sink.write(entries(2, 9))
    t.same(
      messages(path),
      ['entry 9', 'entry 10'],
      'writes resume as soon as the threshold is below the free space',
    )
    t.notOk(sink.stats.diskLow, 'stats say the disk is fine again')
    const dropped = seen.seen.filter((d) => d.code === 'dropped')
    t.same(
      dropped.map((d) => [d.count, d.details?.['reason']]),
      [[8, 'disk_low']],
      'the drops are reported once, with their exact count and the reason',
    )
    t.equal(seen.codes().at(-1), 'disk_ok', 'disk_ok says it resumed')
    await sink.close()
  },
)

t.test(
  'block: below the threshold a write waits, then completes when the threshold is lowered',
  async (t) => {
    const path = join(t.testdir(), 'app.log')
    const seen = diagnostics()
    const sink = createFileSink(
      { path, minFreeBytes: ABOVE_FREE, policy: 'block', spaceCheckInterval: '10ms' },
      { report: seen.report },
    )
    let settled = false
    const writing = sink.write(entries(4)).finally(() => {
      settled = true
    })
    await seen.next('disk_low')
    t.notOk(settled, 'the write is held while the disk is low')
    t.equal(readFileSync(path, 'utf8'), '', 'nothing has reached the file')
    sink.setMinFreeBytes(0)
    await writing
    t.same(messages(path), ['entry 1', 'entry 2', 'entry 3', 'entry 4'], 'the held batch is written whole')
    t.equal(sink.stats.dropped, 0, 'block drops nothing')
    t.same(seen.codes(), ['disk_low', 'disk_ok'], 'disk_low, then disk_ok')
    await sink.close()
  },
)

t.test('block: close() gives up a held write, which rejects as closed', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const seen = diagnostics()
  const sink = createFileSink({ path, minFreeBytes: ABOVE_FREE }, { report: seen.report })
  const writing = t.rejects(
    sink.write(entries(2)),
    { code: 'LOGKIT_ERR_FILE_CLOSED' },
    'the held write rejects: it was never written',
  )
  await seen.next('disk_low')
  await sink.close()
  await writing
  t.equal(readFileSync(path, 'utf8'), '', 'and nothing was written')
})

t.test('a guard below the free space lets every write through without a report', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const seen = diagnostics()
  const sink = createFileSink({ path, minFreeBytes: '1KiB' }, { report: seen.report })
  for (let b = 0; b < 5; b++) await sink.write(entries(10, b * 10 + 1))
  await sink.close()
  t.equal(messages(path).length, 50, 'all 50 written')
  t.same(seen.codes(), [], 'no diagnostics')
})

t.test('in a pipeline, guard drops reach onDiagnostic with the sink as component', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const got: Diagnostic[] = []
  let sink: ReturnType<typeof createFileSink> | undefined
  const channel = createMemoryChannel()
  const pipeline = createPipeline({
    id: 'main',
    sources: [{ id: 'memory', create: channel.source }],
    sinks: [
      {
        id: 'file',
        create: (ctx) => {
          sink = createFileSink({ path, minFreeBytes: ABOVE_FREE, policy: 'drop' }, ctx)
          return sink
        },
      },
    ],
    onDiagnostic: (d) => got.push(d),
    diagnosticEntries: false,
  })
  await pipeline.start()
  const log = createLogger({ app: 'demo', transport: channel.transport })
  for (let i = 0; i < 100; i++) log.info({ i }, 'dropped while low')
  await log.flush()
  await pipeline.flush()
  sink!.setMinFreeBytes(0)
  for (let i = 0; i < 10; i++) log.info({ i }, 'written')
  await log.flush()
  await pipeline.flush()
  const stats = await pipeline.close()
  const dropped = got.filter((d) => d.code === 'dropped' && d.component === 'file')
  t.equal(
    dropped.reduce((n, d) => n + (d.count ?? 0), 0),
    100,
    'the 100 entries dropped while low are reported with their count, as the sink',
  )
  t.equal(dropped[0]?.stage, 'sink', 'at stage sink')
  t.equal(messages(path).length, 10, 'the 10 logged after the threshold was lowered are in the file')
  t.equal(stats.sources[0]?.acknowledged, 110, 'dropped entries are decided too: all 110 acknowledged')
})

t.test('setMinFreeBytes refuses what is not a size', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path })
  t.throws(
    () => sink.setMinFreeBytes('lots'),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an invalid size throws',
  )
  await sink.close()
})
