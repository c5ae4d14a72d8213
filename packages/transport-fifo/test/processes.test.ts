// Real producer and collector processes: a producer that starts before any
// collector, entries larger than a pipe's buffer, a producer that stops
// (SIGSTOP) and comes back (SIGCONT), and a second collector for one app.

import { DemandController, type DiagnosticReporter } from '@logkit/core'
import t from 'tap'
import { createFifoSource } from '../src/index.js'
import {
  Child,
  collector,
  contiguous,
  countOf,
  entriesOf,
  producer,
  runtimeEnv,
  statsOf,
  waitFor,
} from './helpers.js'

t.test(
  'a producer that starts first: its buffered entries arrive when the collector starts, the excess is counted',
  async (t) => {
    const env = runtimeEnv()
    const early = producer({ app: 'late', source: 'early', bufferBytes: 64 * 1024 }, env)
    t.teardown(() => early.kill())
    await early.ready()
    const logged = statsOf(await early.command('log 3000 1000 0 0'))
    t.ok(logged.logger.dropped > 0, 'with no collector, a 64 KiB buffer cannot hold 3000 entries')
    t.ok(logged.transport.bufferedBytes <= 64 * 1024, 'and holds no more than its bound')

    const c = collector(env, 'late')
    await c.pipeline.start()
    await early.command('connected')
    await early.command('log 1 1 1 0')
    const final = statsOf(await early.command('close'))
    await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the producer reaped')
    await c.pipeline.close()

    const got = entriesOf(c.sink.entries, early.pid).map((e) => e.seq)
    const kept = got.length - 1
    t.ok(kept > 0, 'what was buffered arrived')
    t.ok(contiguous(got.slice(0, kept), 1, kept), 'the oldest entries, in order, from the first')
    t.equal(got[kept], 3001, 'then the entry logged after the collector came')
    t.equal(final.logger.dropped, 3000 - kept, 'the producer dropped exactly what did not fit')
    t.equal(
      countOf(c.diagnostics, 'dropped', early.pid),
      final.logger.dropped,
      'and the collector reports that count',
    )
    t.equal(countOf(c.diagnostics, 'seq_gap', early.pid), 0, 'with no unexplained gap')
  },
)

t.test('entries larger than 64 KiB arrive intact', async (t) => {
  const env = runtimeEnv()
  const c = collector(env, 'large')
  await c.pipeline.start()
  const big = producer({ app: 'large', source: 'big', padBytes: 100_000 }, env)
  t.teardown(() => big.kill())
  await big.ready()
  await big.command('log 40 5 1 0')
  await big.command('close')
  await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the producer reaped')
  await c.pipeline.close()
  const got = entriesOf(c.sink.entries, big.pid)
  t.equal(got.length, 40, 'all 40 arrived')
  t.ok(
    got.every(
      (e, i) => e.fields.get('pad') === `${i + 1}:${'x'.repeat(100_000)}` && e.msg === `big entry ${i + 1}`,
    ),
    'each one whole: 100,000 bytes of field and its message',
  )
  t.equal(c.diagnostics.filter((d) => d.code === 'frame_corrupt').length, 0, 'nothing skipped')
})

t.test('a producer that stops checking in is warned about, and its return is reported', async (t) => {
  const env = runtimeEnv()
  const c = collector(env, 'beats', { heartbeatGraceMs: 500 })
  await c.pipeline.start()
  const sleepy = producer({ app: 'beats', source: 'sleepy', heartbeatMs: 100 }, env)
  t.teardown(() => {
    sleepy.process.kill('SIGCONT')
    sleepy.kill()
  })
  await sleepy.ready()
  await sleepy.command('connected')
  await sleepy.command('log 10 10 1 0')
  await waitFor(() => entriesOf(c.sink.entries, sleepy.pid).length === 10, 'its entries')
  const beats = () =>
    c.diagnostics.filter((d) => d.code.startsWith('heartbeat_') && d.details?.['pid'] === sleepy.pid)

  sleepy.process.kill('SIGSTOP')
  const missed = await waitFor(() => {
    const last = beats().at(-1)
    return last?.code === 'heartbeat_missed' ? last : undefined
  }, 'the missed check-in')
  t.match(
    missed,
    { level: 40, details: { source: 'sleepy', lastSeq: 10 } },
    'a warning naming the producer and its last seq',
  )
  sleepy.process.kill('SIGCONT')
  const recovered = await waitFor(() => {
    const last = beats().at(-1)
    return last?.code === 'heartbeat_recovered' ? last : undefined
  }, 'the recovery')
  t.match(recovered, { level: 30, details: { source: 'sleepy' } }, 'an info entry when it is back')
  t.ok(c.diagnostics.indexOf(recovered) > c.diagnostics.indexOf(missed), 'after the warning')
  const asEntry = c.sink.entries.find(
    (e) => e.source === 'logkit' && e.fields.get('code') === 'heartbeat_missed',
  )
  t.equal(asEntry?.level, 40, 'the warning also flows as a warning entry')
  await sleepy.command('close')
  await c.pipeline.close()
})

t.test('two collectors for one app: the second one refuses, naming the first', async (t) => {
  const env = runtimeEnv()
  const first = new Child('collector.mjs', { app: 'solo' }, env)
  t.teardown(() => first.kill())
  t.match(await first.ready(), { ready: first.pid }, 'the first collector runs')
  const report: DiagnosticReporter = () => {}
  const context = {
    id: 'fifo',
    app: 'solo',
    demand: new DemandController(),
    signal: new AbortController().signal,
    onAck: () => {},
    report,
  }
  t.throws(
    () => createFifoSource({ env }, context),
    { code: 'LOGKIT_ERR_SESSION_LOCKED', details: { pid: first.pid } },
    'this process is refused',
  )
  const second = new Child('collector.mjs', { app: 'solo' }, env)
  t.teardown(() => second.kill())
  t.match(
    await second.ready(),
    { refused: 'LOGKIT_ERR_SESSION_LOCKED', details: { pid: first.pid } },
    'so is another collector process',
  )
  t.equal(await second.exited, 3, 'which exits')
  first.kill('SIGTERM')
  t.equal(await first.exited, 0, 'the first one shuts down cleanly')
})
