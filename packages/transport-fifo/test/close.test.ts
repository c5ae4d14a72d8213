// A producer that closes while no collector reads: close() waits (bounded) for
// one to come or come back; what it finally gives up is counted, warned about
// and reported, once, by the next collector. Real producer processes, real
// collectors (one of them SIGKILLed).

import { existsSync, readdirSync } from 'node:fs'
import { type LogEntry, runtimePaths } from '@logkit/core'
import t from 'tap'
import {
  Child,
  collector,
  contiguous,
  countOf,
  deliveredBy,
  entriesOf,
  producer,
  runtimeEnv,
  sleep,
  statsOf,
  waitFor,
} from './helpers.js'

const seqsOf = (entries: readonly LogEntry[], pid: number) => entriesOf(entries, pid).map((e) => e.seq)

t.setTimeout(240_000)

t.test('30 entries logged and closed before the collector starts: all 30 arrive once it comes', async (t) => {
  const env = runtimeEnv()
  const early = producer({ app: 'waits', source: 'early', closeTimeoutMs: 60_000 }, env)
  t.teardown(() => early.kill())
  await early.ready()
  await early.command('log 30 30 0 0')
  const closing = early.command('close')
  // close() is waiting for a collector; one starts now.
  const c = collector(env, 'waits')
  await c.pipeline.start()
  const final = statsOf(await closing)
  await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the producer reaped')
  await c.pipeline.close()

  t.equal(final.transport.abandoned, 0, 'close() gave nothing up')
  t.ok(contiguous(seqsOf(c.sink.entries, early.pid), 1, 30), 'all 30 arrived, in order, once')
  t.same(
    early.lines.filter((l) => l['warning'] !== undefined),
    [],
    'and the producer had nothing to warn about',
  )
})

t.test(
  'no collector within the wait: the count is in stats and a warning, and the next collector reports it once',
  async (t) => {
    const env = runtimeEnv()
    const lonely = producer({ app: 'gone', source: 'lonely', closeTimeoutMs: 300 }, env)
    t.teardown(() => lonely.kill())
    await lonely.ready()
    await lonely.command('log 30 30 0 0')
    const final = statsOf(await lonely.command('close'))
    await lonely.exited
    t.equal(final.transport.abandoned, 30, 'close() counts the 30 entries it gave up')
    t.match(
      lonely.lines.filter((l) => l['warning'] !== undefined),
      [{ warning: 'LOGKIT_W_FIFO_ABANDONED', type: 'LogkitWarning' }],
      'one LogkitWarning with its code tells the owner',
    )

    const c = collector(env, 'gone')
    await c.pipeline.start()
    await waitFor(() => countOf(c.diagnostics, 'seq_gap', lonely.pid) > 0, 'the loss reported')
    // Several more scans: the note is read once, never again.
    const dir = runtimePaths('gone', env).appDir
    await waitFor(() => !readdirSync(dir).some((n) => n.endsWith('.lost')), 'the note removed')
    await sleep(300)
    await c.pipeline.close()
    t.equal(countOf(c.diagnostics, 'seq_gap', lonely.pid), 30, 'the collector reports the 30 lost, once')
    t.equal(countOf(c.diagnostics, 'dropped', lonely.pid), 0, 'and no drops: nothing was dropped')
    t.match(
      c.diagnostics.find((d) => d.code === 'seq_gap'),
      { details: { pid: lonely.pid, after: 0, before: 31 } },
      'naming the producer and the seqs',
    )
    t.notOk(existsSync(`${dir}/lonely.${lonely.pid}.fifo.ack`), 'no checkpoint of the dead producer is left')
  },
)

t.test(
  'a collector SIGKILLed at half and a new one started 0.3 s later, the producer closing meanwhile: every entry delivered or counted, once',
  async (t) => {
    const env = runtimeEnv()
    const dead = new Child('collector.mjs', { app: 'restart' }, env)
    const p = producer(
      { app: 'restart', source: 'steady', bufferBytes: 64 * 1024 * 1024, closeTimeoutMs: 60_000 },
      env,
    )
    let second: ReturnType<typeof collector> | undefined
    t.teardown(async () => {
      dead.kill()
      p.kill()
      await second?.pipeline.close()
    })
    await dead.ready()
    await p.ready()
    const total = 100_000
    const logging = p.command(`log ${total} 1000 0 1`)
    const delivered = () => deliveredBy(dead, p.pid)
    await waitFor(() => delivered().length >= total / 2, 'the first collector delivering half')
    dead.kill('SIGKILL')
    await dead.exited
    const closing = logging.then(() => p.command('close'))
    await sleep(300)
    second = collector(env, 'restart')
    await second.pipeline.start()
    const final = statsOf(await closing)
    await waitFor(
      () => second?.diagnostics.some((d) => d.code === 'producer_exited'),
      'the producer reaped by the new collector',
    )
    await second.pipeline.close()

    const sent = final.logger.seq
    const after = seqsOf(second.sink.entries, p.pid)
    const afterSet = new Set(after)
    const received = new Set([...delivered().map(([, seq]) => seq), ...after])
    const gaps = second.diagnostics
      .filter((d) => d.code === 'seq_gap' && d.details?.['pid'] === p.pid)
      .map((d) => [d.details?.['after'] as number, d.details?.['before'] as number] as const)
    const inGap = (seq: number) => gaps.some(([a, b]) => seq > a && seq < b)
    const silent: number[] = []
    const twice: number[] = []
    for (let seq = 1; seq <= sent; seq++) {
      if (!received.has(seq) && !inGap(seq)) silent.push(seq)
      if (afterSet.has(seq) && inGap(seq)) twice.push(seq)
    }
    t.equal(sent, total, 'the producer logged everything')
    t.equal(final.logger.dropped, 0, 'and dropped nothing')
    t.equal(final.transport.abandoned, 0, 'its close() waited for the new collector and gave nothing up')
    t.same(silent.slice(0, 10), [], 'every entry arrived or lies in a reported gap: no silent loss')
    t.same(twice.slice(0, 10), [], 'nothing both delivered and counted as lost')
    t.equal(countOf(second.diagnostics, 'dropped', p.pid), 0, 'no drops reported')
    t.comment(`${received.size} distinct entries received, ${gaps.length} gaps reported`)
  },
)
