// A tight loop of log calls over fifo (the event loop never turns): under the
// default policy, block, a running collector gets every entry (the producer
// waits, bounded, for the pipe); under drop, every entry is delivered or
// counted; with no collector, block never waits and drops at once. The
// owner hears of a drop episode once. Real producer processes.

import t from 'tap'
import {
  collector,
  contiguous,
  countOf,
  entriesOf,
  producer,
  runtimeEnv,
  statsOf,
  waitFor,
} from './helpers.js'

const CALLS = 100_000

t.setTimeout(240_000)

t.test('block (the default), collector running: a tight loop drops nothing', async (t) => {
  const env = runtimeEnv()
  const c = collector(env, 'tight')
  await c.pipeline.start()
  // A small buffer, so the loop must wait for the pipe; a wait long enough never to run out here.
  const p = producer({ app: 'tight', source: 'loop', bufferBytes: 64 * 1024, blockMs: 600_000 }, env)
  t.teardown(() => p.kill())
  await p.ready()
  await p.command('connected')
  const logged = statsOf(await p.command(`log ${CALLS} ${CALLS} 0 0`))
  const final = statsOf(await p.command('close'))
  await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the producer reaped')
  await c.pipeline.close()
  const got = entriesOf(c.sink.entries, p.pid).map((e) => e.seq)
  t.equal(logged.logger.dropped, 0, 'the logger dropped nothing')
  t.ok(logged.transport.blocked > 0, 'the loop did wait for the pipe')
  t.ok(contiguous(got, 1, CALLS), `all ${CALLS} arrived, in order, once`)
  t.equal(countOf(c.diagnostics, 'dropped', p.pid), 0, 'no drop reported')
  t.equal(final.transport.abandoned, 0, 'nothing given up at close')
  t.same(
    p.lines.filter((l) => l['warning'] !== undefined),
    [],
    'no warning',
  )
})

t.test('drop, collector running: delivered + dropped = logged, exactly, and one warning', async (t) => {
  const env = runtimeEnv()
  const c = collector(env, 'droppy')
  await c.pipeline.start()
  const p = producer({ app: 'droppy', source: 'loop', bufferBytes: 64 * 1024, policy: 'drop' }, env)
  t.teardown(() => p.kill())
  await p.ready()
  await p.command('connected')
  const logged = statsOf(await p.command(`log ${CALLS} ${CALLS} 0 0`))
  // One more entry after the loop carries the announcement of the drops before it.
  await p.command('log 1 1 1 0')
  const final = statsOf(await p.command('close'))
  await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the producer reaped')
  await c.pipeline.close()
  const got = entriesOf(c.sink.entries, p.pid)
  const dropped = countOf(c.diagnostics, 'dropped', p.pid)
  t.ok(logged.logger.dropped > 0, 'a 64 KiB buffer cannot hold a tight loop: it dropped')
  t.equal(logged.transport.blocked, 0, 'drop never waits')
  t.equal(got.length + final.logger.dropped, CALLS + 1, 'delivered + dropped = logged')
  t.equal(dropped, final.logger.dropped, "the collector's count of drops is the producer's")
  t.equal(countOf(c.diagnostics, 'seq_gap', p.pid), 0, 'no unexplained gap')
  t.match(
    p.lines.filter((l) => l['warning'] !== undefined),
    [{ warning: 'LOGKIT_W_TRANSPORT_DROPPING', type: 'LogkitWarning' }],
    'the owner was told once that drops started',
  )
})

t.test('block with no collector: never waits, drops and counts at once, warns once', async (t) => {
  const env = runtimeEnv()
  const p = producer({ app: 'absent', source: 'loop', bufferBytes: 64 * 1024, closeTimeoutMs: 0 }, env)
  t.teardown(() => p.kill())
  await p.ready()
  const logged = statsOf(await p.command(`log ${CALLS} ${CALLS} 0 0`))
  t.equal(logged.transport.blocked, 0, 'no write waited: there was no collector to wait for')
  t.ok(logged.logger.dropped > 0, 'what did not fit was dropped')
  t.equal(logged.logger.written + logged.logger.dropped, CALLS, 'every call buffered or counted as dropped')
  t.equal(
    logged.logger.dropped,
    logged.transport.dropped,
    'the logger counted exactly what the transport refused',
  )
  const final = statsOf(await p.command('close'))
  t.equal(final.transport.abandoned, logged.logger.written, 'close() gave up what it held, and counted it')
  t.match(
    p.lines.filter((l) => l['warning'] === 'LOGKIT_W_TRANSPORT_DROPPING'),
    [{ type: 'LogkitWarning' }],
    'one warning for the whole episode',
  )
})
