// fifo() without app or source: the logger opens it with its own identity.

import { createLogger } from '@logkit/core'
import t from 'tap'
import { fifo } from '../src/producer.js'
import { collector, runtimeEnv, waitFor } from './helpers.js'

t.test('createLogger({ app, source, transport: fifo() }) logs into its app’s collector', async (t) => {
  const env = runtimeEnv()
  const { pipeline, sink } = collector(env, 'fifoid')
  await pipeline.start()
  const log = createLogger({ app: 'fifoid', source: 'checkout', transport: fifo({ env, heartbeatMs: 0 }) })
  log.info({ order: 7 }, 'placed')
  await waitFor(() => sink.entries.length === 1, 'the entry')
  t.match(sink.entries[0], { app: 'fifoid', source: 'checkout', msg: 'placed' })
  await log.close()
  await pipeline.close()
})
