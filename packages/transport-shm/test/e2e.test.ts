import t from 'tap'
import { isolatedEnv, seqsByPid, startCollector, startProducer, until } from './helpers.js'

t.test(
  '4 producer processes × 100,000 entries: every entry arrives once, seq contiguous per producer',
  async (t) => {
    const env = isolatedEnv()
    const { pipeline, sink, diagnostics } = await startCollector('e2e', env)
    // 4 producers outrun one collector on 2 shared cores: block long enough that
    // nothing is dropped, so every entry must arrive.
    const producers = ['a', 'b', 'c', 'd'].map((name) =>
      startProducer(env, ['e2e', name, 100_000, '', 'block', '', 0, 30_000]),
    )
    const results = await Promise.all(producers.map((p) => p.result))
    t.same(
      results.map((r) => r.code),
      [0, 0, 0, 0],
      'every producer exited cleanly',
    )
    await until(() => sink.entries.length >= 400_000, 120_000, '400,000 entries')
    await until(
      () => diagnostics.filter((d) => d.code === 'producer_exited').length === 4,
      30_000,
      'four exits',
    )
    const byPid = seqsByPid(sink.entries)
    t.equal(byPid.size, 4, 'four producers')
    for (const [pid, seqs] of byPid) {
      t.equal(seqs.length, 100_000, `pid ${pid}: 100,000 entries`)
      t.ok(
        seqs.every((s, i) => s === i + 1),
        `pid ${pid}: seq 1…100,000 in order, no gap, no duplicate`,
      )
    }
    t.equal(
      diagnostics.filter((d) => d.code === 'seq_gap' || d.code === 'dropped').length,
      0,
      'no loss reported',
    )
    t.ok(
      diagnostics.filter((d) => d.code === 'producer_exited').every((d) => d.details?.['clean'] === true),
      'each exit reported as clean',
    )
    await pipeline.close()
  },
)
