import { createLogger } from '@logkit/core'
import t from 'tap'
import { setProducerLevel } from '../src/control.js'
import { shm } from '../src/producer.js'
import { isolatedEnv, startCollector, until } from './helpers.js'

t.test(
  'the collector side sets a producer’s level through the control word; the logger follows',
  async (t) => {
    const env = isolatedEnv()
    const { pipeline, sink } = await startCollector('levels', env)
    const a = createLogger({
      app: 'levels',
      source: 'alpha',
      transport: shm({ app: 'levels', source: 'alpha', env }),
    })
    const b = createLogger({
      app: 'levels',
      source: 'beta',
      transport: shm({ app: 'levels', source: 'beta', env }),
    })
    a.debug('not yet')
    t.equal(
      setProducerLevel('levels', { level: 'debug', source: 'alpha', env }),
      1,
      'one ring (alpha’s) was told',
    )
    await until(() => a.level === 'debug', 10_000, 'alpha to switch to debug')
    t.equal(b.level, 'info', 'beta was not asked and stays at info')
    a.debug('now visible')
    b.debug('still hidden')
    await until(() => sink.entries.some((e) => e.msg === 'now visible'), 10_000, 'the debug entry')
    t.notOk(
      sink.entries.some((e) => e.msg === 'not yet' || e.msg === 'still hidden'),
      'entries below each producer’s level at the time were not logged',
    )
    t.equal(setProducerLevel('levels', { level: 'error', env }), 2, 'without a source, every ring is told')
    await until(() => a.level === 'error' && b.level === 'error', 10_000, 'both to switch to error')
    t.throws(() => setProducerLevel('levels', { level: 'loud', env }), { code: 'LOGKIT_ERR_LEVEL_UNKNOWN' })
    t.equal(
      setProducerLevel('no-such-app', { level: 'info', env }),
      0,
      'an app without rings has no one to tell',
    )
    await a.close()
    await b.close()
    await pipeline.close()
  },
)
