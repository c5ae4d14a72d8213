// The collector restarts mid-stream. Producers reconnect by themselves; what
// they buffered meanwhile arrives; whatever did not arrive is reported, with
// the exact count: received + reported lost + reported dropped = sent, for
// every producer, and nothing arrives twice.

import type { LogEntry, Pipeline } from '@logkit/core'
import t from 'tap'
import {
  Child,
  collector,
  countOf,
  deliveredBy,
  entriesOf,
  producer,
  runtimeEnv,
  statsOf,
  waitFor,
} from './helpers.js'

const seqsOf = (entries: readonly LogEntry[], pid: number) => entriesOf(entries, pid).map((e) => e.seq)
const increasing = (seqs: readonly number[]) => seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number))

t.test(
  'a collector closed and started again mid-stream: every entry arrives or is counted, exactly',
  async (t) => {
    const env = runtimeEnv()
    const first = collector(env, 'restart')
    // One producer with room for everything logged while no collector runs, one
    // whose small buffer must drop (drop_newest) and say how many.
    const roomy = producer({ app: 'restart', source: 'roomy', bufferBytes: 16 * 1024 * 1024 }, env)
    const tight = producer({ app: 'restart', source: 'tight', bufferBytes: 64 * 1024 }, env)
    const children = [roomy, tight]
    t.teardown(() => {
      for (const child of children) child.kill()
    })
    await Promise.all(children.map((c) => c.ready()))

    // Phase 0: no collector yet; the tight producer drops, and tells the first collector.
    await Promise.all(children.map((c) => c.command('log 3000 1000 0 0')))
    await first.pipeline.start()

    // Phase 1: a steady stream; the collector is closed while it flows.
    const streaming = children.map((c) => c.command('log 20000 100 1 1'))
    await waitFor(
      () => children.every((c) => entriesOf(first.sink.entries, c.pid).length >= 2000),
      'the first collector receiving from both',
    )
    await first.pipeline.close()
    await Promise.all(streaming)

    // Phase 2: no collector at all; the producers buffer (and the tight one drops).
    const buffered = await Promise.all(children.map((c) => c.command('log 20000 1000 0 0')))
    t.ok(
      statsOf(buffered[1] as never).logger.dropped > 0,
      'the tight producer had to drop while no collector ran',
    )

    // Phase 3: a new collector; the producers find it, send what they kept, and go on.
    const second = collector(env, 'restart')
    await second.pipeline.start()
    const finals = await Promise.all(
      children.map(async (c) => {
        await c.command('log 5000 100 1 1')
        return statsOf(await c.command('close'))
      }),
    )
    await waitFor(
      () => second.diagnostics.filter((d) => d.code === 'producer_exited').length === 2,
      'both producers reaped by the second collector',
    )
    await second.pipeline.close()

    for (const [i, child] of children.entries()) {
      const name = i === 0 ? 'roomy' : 'tight'
      const sent = finals[i]?.logger.seq ?? 0
      const before = seqsOf(first.sink.entries, child.pid)
      const after = seqsOf(second.sink.entries, child.pid)
      const lost =
        countOf(first.diagnostics, 'seq_gap', child.pid) + countOf(second.diagnostics, 'seq_gap', child.pid)
      const dropped =
        countOf(first.diagnostics, 'dropped', child.pid) + countOf(second.diagnostics, 'dropped', child.pid)
      t.equal(sent, 48_000, `${name}: logged 48,000 entries`)
      t.ok(increasing(before) && increasing(after), `${name}: each collector got its entries in order`)
      const overlap = after.filter((s) => s <= (before[before.length - 1] ?? 0))
      t.same(overlap, [], `${name}: nothing the first collector delivered arrives again`)
      t.equal(
        before.length + after.length + lost + dropped,
        sent,
        `${name}: received + lost + dropped = sent`,
      )
      t.equal(
        dropped,
        finals[i]?.logger.dropped,
        `${name}: the drops reported are the drops the producer counted`,
      )
      t.ok((finals[i]?.transport.connections ?? 0) >= 2, `${name}: reconnected by itself`)
      t.comment(`${name}: ${before.length} + ${after.length} received, ${lost} lost, ${dropped} dropped`)
    }
    t.equal(statsOf(finals[0] as never).logger.dropped, 0, 'the roomy producer dropped nothing')
    t.ok(
      countOf(first.diagnostics, 'dropped', tight.pid) > 0 &&
        countOf(second.diagnostics, 'dropped', tight.pid) > 0,
      'the tight one reported drops to both collectors, each counted once',
    )
  },
)

t.test(
  'a collector killed mid-stream: the next one reports what the dead one may not have delivered',
  async (t) => {
    const env = runtimeEnv()
    const dead = new Child('collector.mjs', { app: 'crash' }, env)
    const p = producer({ app: 'crash', source: 'steady', bufferBytes: 16 * 1024 * 1024 }, env)
    let second: ReturnType<typeof collector> | undefined
    t.teardown(async () => {
      dead.kill()
      p.kill()
      await second?.pipeline.close()
    })
    await dead.ready()
    await p.ready()
    const streaming = p.command('log 30000 100 1 1')
    const delivered = () => deliveredBy(dead, p.pid)
    await waitFor(() => delivered().length >= 3000, 'the first collector delivering')
    dead.kill('SIGKILL')
    await dead.exited
    second = collector(env, 'crash')
    await (second.pipeline as Pipeline).start()
    await streaming
    const final = statsOf(await p.command('close'))
    await waitFor(
      () => second?.diagnostics.some((d) => d.code === 'producer_exited'),
      'the producer reaped by the new collector',
    )
    await second.pipeline.close()

    const sent = final.logger.seq
    const received = new Set([...delivered().map(([, seq]) => seq), ...seqsOf(second.sink.entries, p.pid)])
    const gaps = second.diagnostics
      .filter((d) => d.code === 'seq_gap' && d.details?.['pid'] === p.pid)
      .map((d) => [d.details?.['after'] as number, d.details?.['before'] as number])
    const silent: number[] = []
    for (let seq = 1; seq <= sent; seq++) {
      if (
        !received.has(seq) &&
        !gaps.some(([after, before]) => seq > (after as number) && seq < (before as number))
      ) {
        silent.push(seq)
      }
    }
    t.equal(sent, 30_000, 'the producer logged everything')
    t.same(silent.slice(0, 10), [], 'every entry arrived or lies in a reported gap: no silent loss')
    t.ok(increasing(seqsOf(second.sink.entries, p.pid)), 'the new collector delivers in order')
    t.comment(`${received.size} distinct entries received, ${gaps.length} gaps reported`)
  },
)
