import { join } from 'node:path'
import { createLogger, type Diagnostic } from '@logkit/core'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { setProducerLevel } from '../src/control.js'
import { HEAD_INDEX, MIN_CAPACITY } from '../src/layout.js'
import { shm } from '../src/producer.js'
import { isolatedEnv, startCollector, startCollectorProcess, until } from './helpers.js'

t.test(
  'two collectors in sequence: the second re-reads what the first had not acknowledged, and every drop is reported exactly once',
  async (t) => {
    const env = isolatedEnv()
    const out = join(tempDir('logkit-restart-'), 'lines.txt')
    const transport = shm({ app: 'restart', source: 'r', capacity: MIN_CAPACITY, policy: 'drop', env })
    const log = createLogger({ app: 'restart', source: 'r', transport })
    const call = () => log.info({ pad: 'x'.repeat(100) }, 'entry')
    const dropSome = (n: number) => {
      const before = transport.dropped
      while (transport.dropped < before + n) call()
    }
    const reported = (c: { diagnostics: { code: string; count?: number }[] }) =>
      c.diagnostics.filter((d) => d.code === 'dropped').reduce((n, d) => n + (d.count ?? 0), 0)

    // No collector yet: the ring fills and 100 entries are dropped.
    dropSome(100)
    const first = await startCollectorProcess('restart', env, out)
    await until(() => transport.ring.head === transport.ring.tail, 30_000, 'the first collector to drain')
    await until(() => reported(first) >= 100, 30_000, 'the first drop report')
    // The next entries carry the logger's announcement of those 100 drops.
    const mark = transport.ring.tail
    for (let i = 0; i < 10; i++) call()
    await until(() => transport.ring.head === transport.ring.tail, 30_000, 'the first collector to drain')
    first.child.kill('SIGKILL')
    await first.exited
    t.equal(reported(first), 100, 'the first collector reported the 100 drops')
    // As if its last acknowledgements had not landed: the next collector reads those frames again.
    Atomics.store(transport.ring.header, HEAD_INDEX, mark | 0)

    // No collector again: 50 more drops, then a clean close (the goodbye carries the total, 150).
    dropSome(50)
    await log.close()
    t.equal(log.stats.dropped, 150, 'the producer dropped 150 in all')
    const second = await startCollectorProcess('restart', env, out)
    t.teardown(() => {
      second.child.kill('SIGKILL')
    })
    await until(
      () => second.diagnostics.some((d) => d.code === 'producer_exited'),
      30_000,
      'the second collector to see the producer exit',
    )
    t.equal(reported(second), 50, 'the second collector reported only the 50 new drops')
    t.equal(reported(first) + reported(second), log.stats.dropped, 'the totals equal what was dropped')
  },
)

t.test(
  'drops by reason survive a collector restart: each reason reported once, by whichever collector saw it first',
  async (t) => {
    const env = isolatedEnv()
    const out = join(tempDir('logkit-restart-'), 'lines.txt')
    const transport = shm({ app: 'reasons', source: 'r', capacity: MIN_CAPACITY, policy: 'drop', env })
    const log = createLogger({ app: 'reasons', source: 'r', transport, maxFrameSize: 4096 })
    const call = () => log.info({ pad: 'x'.repeat(100) }, 'entry')
    const tooLarge = () => log.info({ pad: 'y'.repeat(10_000) }, 'too large')
    const unserializable = () =>
      log.info(
        {
          bad: {
            toJSON() {
              throw new Error('no')
            },
          },
        },
        'unserializable',
      )
    const byReason = (c: { diagnostics: Diagnostic[] }) => {
      const sums: Record<string, number> = {}
      for (const d of c.diagnostics)
        if (d.code === 'dropped') {
          const reason = String(d.details?.['reason'])
          sums[reason] = (sums[reason] ?? 0) + (d.count ?? 0)
        }
      return sums
    }

    // No collector: the ring fills (100 refused), and 3 too large and 2 unserializable are dropped at the logger.
    while (transport.dropped < 100) call()
    for (let i = 0; i < 3; i++) tooLarge()
    for (let i = 0; i < 2; i++) unserializable()
    const first = await startCollectorProcess('reasons', env, out)
    await until(() => transport.ring.head === transport.ring.tail, 30_000, 'the first collector to drain')
    // The next entries announce all 105 drops, with their reasons.
    const mark = transport.ring.tail
    for (let i = 0; i < 10; i++) call()
    await until(() => Object.keys(byReason(first)).length === 3, 30_000, 'the three reasons')
    await until(() => transport.ring.head === transport.ring.tail, 30_000, 'the first collector to drain')
    first.child.kill('SIGKILL')
    await first.exited
    t.same(
      byReason(first),
      { producer_buffer_full: 100, entry_too_large: 3, entry_unserializable: 2 },
      'the first collector: the full ring at once (from the header), the rest from the frames',
    )
    // As if its last acknowledgements had not landed: the next collector reads the announcing frames again.
    Atomics.store(transport.ring.header, HEAD_INDEX, mark | 0)

    tooLarge()
    tooLarge()
    await log.close()
    t.equal(log.stats.dropped, 107, 'the producer dropped 107 in all')
    const second = await startCollectorProcess('reasons', env, out)
    t.teardown(() => {
      second.child.kill('SIGKILL')
    })
    await until(
      () => second.diagnostics.some((d) => d.code === 'producer_exited'),
      30_000,
      'the second collector to see the producer exit',
    )
    t.same(
      byReason(second),
      { entry_too_large: 2 },
      'the second collector: only the two new ones, by the goodbye',
    )
  },
)

t.test('transports of one source made in one tight loop get distinct rings', async (t) => {
  const env = isolatedEnv()
  const transports = Array.from({ length: 20 }, () =>
    shm({ app: 'pool', source: 'worker', capacity: MIN_CAPACITY, env }),
  )
  const paths = new Set(transports.map((tr) => tr.ring.path))
  t.equal(paths.size, 20, 'twenty transports, twenty ring files, no EEXIST')
  t.ok(
    [...paths].every((p) => /\/worker\.\d+\.[^./]+\.ring$/.test(p)),
    'each named SOURCE.PID.ID.ring',
  )
  t.equal(setProducerLevel('pool', { level: 'warn', source: 'worker', env }), 20, 'level control finds all')
  t.ok(
    transports.every((tr) => tr.controlLevel === 40),
    'and each transport reads the level',
  )
  const { pipeline, sink } = await startCollector('pool', env)
  transports.forEach((tr, i) => {
    createLogger({ app: 'pool', source: 'worker', transport: tr }).warn({ i }, 'hi')
  })
  await until(() => sink.entries.length === 20, 30_000, 'an entry from each')
  t.equal(new Set(sink.entries.map((e) => e.fields.get('i'))).size, 20, 'the collector reads all twenty')
  for (const tr of transports) await tr.close()
  await pipeline.close()
})
