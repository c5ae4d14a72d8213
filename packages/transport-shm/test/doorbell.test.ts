import { readFileSync } from 'node:fs'
import { createEntry, createLogger, FrameEncoder, runtimePaths } from '@logkit/core'
import { tableCodes } from '@logkit/core/testing'
import t from 'tap'
import { shmErrorCodes } from '../src/errors.js'
import { CONSUMER_ASLEEP_INDEX, CONTROL_INDEX, DROPPED_INDEX } from '../src/layout.js'
import { shm } from '../src/producer.js'
import { isolatedEnv, startCollector, startProducer, until } from './helpers.js'

t.test('an idle collector sleeps on the doorbell, and the first write wakes it', async (t) => {
  const env = isolatedEnv()
  // A reaper that never runs in this test: only the doorbell can wake the collector.
  const { pipeline, sink } = await startCollector('idle', env, { reapIntervalMs: 3_600_000 })
  const transport = shm({ app: 'idle', source: 'sleepy', env })
  const log = createLogger({ app: 'idle', source: 'sleepy', transport })
  log.info('one')
  await until(() => sink.entries.length === 1, 10_000, 'the first entry')
  await until(
    () => Atomics.load(transport.ring.header, CONSUMER_ASLEEP_INDEX) === 1,
    10_000,
    'the collector to sleep',
  )
  t.pass('with the ring empty, the collector went to sleep')
  log.info('two')
  t.equal(
    Atomics.load(transport.ring.header, CONSUMER_ASLEEP_INDEX),
    0,
    'the write took the asleep flag: it rang',
  )
  await until(() => sink.entries.length === 2, 10_000, 'the second entry')
  t.same(
    sink.entries.map((e) => e.msg),
    ['one', 'two'],
    'the doorbell woke it for the second entry',
  )
  await log.close()
  await pipeline.close()
})

t.test('a producer started after the collector is found through the doorbell', async (t) => {
  const env = isolatedEnv()
  const { pipeline, sink, diagnostics } = await startCollector('late', env, { reapIntervalMs: 3_600_000 })
  await new Promise((r) => setTimeout(r, 50))
  const { result } = startProducer(env, ['late', 'newcomer', 500])
  await result
  await until(() => sink.entries.length === 500, 30_000, '500 entries')
  t.equal(sink.entries.length, 500, 'all entries of the late producer arrived')
  t.equal(diagnostics.filter((d) => d.code === 'dropped').length, 0, 'nothing dropped')
  await pipeline.close()
})

t.test('the dropped count in the ring header is the producer’s own count', (t) => {
  const env = isolatedEnv()
  const transport = shm({ app: 'count', source: 'c', policy: 'drop', capacity: 65536, env })
  const log = createLogger({ app: 'count', source: 'c', transport })
  for (let i = 0; i < 2000; i++) log.info({ i }, 'fill')
  t.ok(transport.dropped > 0, 'some were dropped')
  t.equal(Atomics.load(transport.ring.header, DROPPED_INDEX), transport.dropped, 'the header says the same')
  t.equal(log.stats.dropped, transport.dropped, 'and so does the logger')
  t.ok(
    runtimePaths('count', env).memoryDir.startsWith(env.LOGKIT_SHM_DIR as string),
    'rings live under LOGKIT_SHM_DIR',
  )
  t.end()
})

t.test('every error code has a row in the README, and every row a code', (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const documented = tableCodes(readme, 'Errors')
  t.same(documented.sort(), Object.keys(shmErrorCodes).sort(), 'README and errors.ts agree')
  const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
  t.same(
    tableCodes(docs, '@logkit/transport-shm').sort(),
    Object.keys(shmErrorCodes).sort(),
    'docs/errors.md and errors.ts agree',
  )
  t.end()
})

t.test('without a memory-backed directory the producer says what to do', (t) => {
  const env = { ...isolatedEnv(), LOGKIT_SHM_DIR: '/nonexistent-logkit-shm' }
  t.throws(() => shm({ app: 'nowhere', env }), { code: 'LOGKIT_ERR_SHM_UNAVAILABLE' })
  t.end()
})

t.test('the control word carries a level from the collector; flush resolves at once', async (t) => {
  const env = isolatedEnv()
  const transport = shm({ app: 'control', source: 'c', env })
  t.equal(transport.controlLevel, 0, 'no level asked for at first')
  Atomics.store(transport.ring.header, CONTROL_INDEX, 40)
  t.equal(transport.controlLevel, 40, 'the producer reads the level the collector set')
  await transport.flush()
  t.pass('flush resolved: the data is in shared memory already')
  await transport.close()
  const frame = new FrameEncoder().batch([createEntry({ msg: 'a' }), createEntry({ msg: 'b' })])
  t.notOk(transport.write(frame), 'a write after close is refused')
  t.equal(transport.dropped, 2, 'and its entries counted')
  t.notOk(transport.write(new FrameEncoder().goodbye({ lastSeq: 2, dropped: 0 })), 'a goodbye too')
  t.equal(transport.dropped, 2, 'which holds no entry to count')
})
