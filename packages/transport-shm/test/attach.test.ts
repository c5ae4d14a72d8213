// A producer that fills its new ring before the collector has attached it
// (listed its directory, mapped the file, beaten in it) waits for that
// collector, as it waits for one that beats, instead of dropping: the
// collector was told of the ring (the announcement reached it) and is on
// its way. Here the collector's event loop is held while the producer starts
// and fills a 64 KiB ring several times over.

import { readdirSync } from 'node:fs'
import { runtimePaths } from '@logkit/core'
import t from 'tap'
import { MIN_CAPACITY } from '../src/layout.js'
import { isolatedEnv, startCollector, startProducer, until } from './helpers.js'

t.test(
  'a ring full before the collector attached it waits for the collector; nothing is dropped',
  async (t) => {
    const env = isolatedEnv()
    const { pipeline, sink } = await startCollector('attach', env)
    t.teardown(() => pipeline.close())
    const memoryDir = runtimePaths('attach', env).memoryDir
    const producer = startProducer(env, ['attach', 'early', 3000, MIN_CAPACITY, 'block', '', '', 10_000])
    // Hold this process (the collector) until the ring exists, and a while after: its announcement waits unread.
    const until_ = Date.now() + 10_000
    let seenAt = 0
    while (Date.now() < until_) {
      const now = Date.now()
      if (seenAt === 0 && readdirSync(memoryDir).some((n) => n.startsWith('early.'))) seenAt = now
      if (seenAt !== 0 && now - seenAt > 400) break
    }
    t.ok(seenAt > 0, 'the ring was created while the collector was held')
    const result = await producer.result
    t.equal(result.out?.dropped, 0, 'the producer dropped nothing')
    await until(
      () => sink.entries.filter((e) => e.source === 'early').length === 3000,
      30_000,
      '3000 entries',
    )
    t.pass('all 3000 entries arrived')
  },
)
