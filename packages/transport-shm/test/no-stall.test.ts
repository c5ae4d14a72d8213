import { join } from 'node:path'
import { createLogger } from '@logkit/core'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { BEAT_STALE_MS, MIN_CAPACITY } from '../src/layout.js'
import { shm } from '../src/producer.js'
import { isolatedEnv, startCollectorProcess, until } from './helpers.js'

const CALLS = 5000

t.test(
  'block with no collector drops at once; with a live one it waits; a stopped one costs one wait',
  async (t) => {
    const env = isolatedEnv()
    const out = join(tempDir('logkit-stall-'), 'lines.txt')
    const warnings: string[] = []
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === 'LOGKIT_W_TRANSPORT_DROPPING') warnings.push(w.message)
    }
    process.on('warning', onWarning)
    t.teardown(() => process.off('warning', onWarning))

    // A wait long enough that a live collector always makes room within it.
    const transport = shm({ app: 'stall', source: 's', capacity: MIN_CAPACITY, blockMs: 5000, env })
    const log = createLogger({ app: 'stall', source: 's', transport })
    // One shape of entry throughout: frames only grow (seq digits), so once
    // one does not fit the full ring, none after it does.
    const call = () => log.info({ pad: 'x'.repeat(100) }, 'call')
    const fill = () => {
      const before = transport.dropped
      while (transport.dropped === before) call()
    }
    const timeCalls = () => {
      const start = process.hrtime.bigint()
      for (let i = 0; i < CALLS; i++) call()
      return Number(process.hrtime.bigint() - start)
    }

    // No collector has ever run: the ring fills, and every call after drops at once.
    fill()
    const droppedBefore = transport.dropped
    const noCollectorNs = timeCalls()
    t.equal(transport.waits, 0, 'with no collector, no call into the full ring waited')
    t.equal(transport.dropped - droppedBefore, CALLS, `all ${CALLS} calls into the full ring were dropped`)
    const droppedWithoutCollector = transport.dropped
    await new Promise((r) => setImmediate(r))
    t.equal(warnings.length, 1, 'the owner was told once that drops started')

    // A collector comes: it drains the ring and reports the drops, once.
    const collector = await startCollectorProcess('stall', env, out)
    t.teardown(() => {
      collector.child.kill('SIGKILL')
    })
    await until(() => transport.ring.head === transport.ring.tail, 30_000, 'the collector to drain the ring')
    await until(() => collector.diagnostics.some((d) => d.code === 'dropped'), 30_000, 'the drop report')
    const liveNs = timeCalls()
    t.equal(
      transport.dropped,
      droppedWithoutCollector,
      'with the collector reading, nothing more was dropped',
    )
    t.ok(
      noCollectorNs < liveNs * 10,
      `calls into a full ring with no collector cost no more than calls with a live one (${(noCollectorNs / CALLS).toFixed(0)} vs ${(liveNs / CALLS).toFixed(0)} ns per call)`,
    )

    // The collector stops (SIGSTOP): the full ring waits once, then drops at once.
    collector.child.kill('SIGSTOP')
    const waitsBefore = transport.waits
    fill()
    timeCalls()
    t.equal(transport.waits - waitsBefore, 1, 'a stopped collector cost exactly one bounded wait')
    await new Promise((r) => setImmediate(r))
    t.equal(warnings.length, 2, 'a second drop episode, a second warning')

    // It resumes: it reports what was dropped meanwhile, and the totals add up exactly.
    collector.child.kill('SIGCONT')
    const reported = () =>
      collector.diagnostics.filter((d) => d.code === 'dropped').reduce((n, d) => n + (d.count ?? 0), 0)
    await until(() => reported() >= transport.dropped, 30_000, 'the second drop report')
    const reports = collector.diagnostics.filter((d) => d.code === 'dropped')
    t.equal(
      reports[0]?.count,
      droppedWithoutCollector,
      'the drops made with no collector reported exactly once',
    )
    await log.close()
    await until(
      () => collector.diagnostics.some((d) => d.code === 'producer_exited'),
      30_000,
      'the exit report',
    )
    t.equal(reported(), transport.dropped, 'every drop reported, none twice')
  },
)

t.test('a collector that closed cleanly is not waited for, even within the stale time', async (t) => {
  const env = isolatedEnv()
  const out = join(tempDir('logkit-stall-'), 'lines.txt')
  const transport = shm({ app: 'gone', source: 's', capacity: MIN_CAPACITY, blockMs: 10_000, env })
  const log = createLogger({ app: 'gone', source: 's', transport })
  const collector = await startCollectorProcess('gone', env, out)
  log.info('hello')
  await until(() => transport.ring.head === transport.ring.tail, 30_000, 'the collector to read')
  collector.child.kill('SIGTERM')
  await collector.exited
  t.notOk(transport.ring.collectorBeating(Date.now(), BEAT_STALE_MS), 'a clean close clears the beat at once')
  const before = transport.dropped
  while (transport.dropped === before) log.info({ pad: 'x'.repeat(100) }, 'fill')
  t.equal(transport.waits, 0, 'no call waited for the collector that left')
  await log.close()
})
