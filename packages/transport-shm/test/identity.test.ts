// shm() without app or source: the logger opens it with its own identity
// (one place to name them), and the app may come from LOGKIT_APP.

import { readdirSync } from 'node:fs'
import { createLogger, runtimePaths } from '@logkit/core'
import t from 'tap'
import { shm } from '../src/producer.js'
import { isolatedEnv, startCollector, until } from './helpers.js'

t.test('createLogger({ app, source, transport: shm() }): the ring is the logger’s', async (t) => {
  const env = isolatedEnv()
  const { pipeline, sink } = await startCollector('idapp', env)
  const log = createLogger({ app: 'idapp', source: 'indexer', transport: shm({ env, capacity: 64 * 1024 }) })
  log.info({ doc: 42 }, 'indexed')
  const rings = readdirSync(runtimePaths('idapp', env).memoryDir).filter((n) => n.endsWith('.ring'))
  t.equal(rings.length, 1, 'one ring, in the app’s folder')
  t.match(rings[0], new RegExp(`^indexer\\.${process.pid}\\.`), 'named by the logger’s source')
  await until(() => sink.entries.length === 1, 10_000, 'the entry')
  t.match(sink.entries[0], { app: 'idapp', source: 'indexer', msg: 'indexed' })
  await log.close()
  await pipeline.close()
})

t.test('shm({ source }) names its ring itself; the app comes from LOGKIT_APP', async (t) => {
  const env = isolatedEnv()
  const saved = process.env.LOGKIT_APP
  process.env.LOGKIT_APP = 'envapp'
  t.teardown(() => {
    if (saved === undefined) delete process.env.LOGKIT_APP
    else process.env.LOGKIT_APP = saved
  })
  const { pipeline, sink } = await startCollector('envapp', env)
  const log = createLogger({ source: 'worker', transport: shm({ env, source: 'pool', capacity: 64 * 1024 }) })
  log.warn('from the pool')
  const rings = readdirSync(runtimePaths('envapp', env).memoryDir).filter((n) => n.endsWith('.ring'))
  t.match(rings, [/^pool\./], 'the ring named as told')
  await until(() => sink.entries.length === 1, 10_000, 'the entry')
  t.match(sink.entries[0], { app: 'envapp', source: 'worker', msg: 'from the pool' })
  await log.close()
  await pipeline.close()
})
