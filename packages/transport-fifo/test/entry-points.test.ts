// `@logkit/transport-fifo/producer` is a bundle with its own copy of the
// transport, beside the main entry point's. A process that makes loggers
// through both must still give each its own pipe.

import { existsSync } from 'node:fs'
import { acquireSession } from '@logkit/core'
import { fifo as fromMain } from '@logkit/transport-fifo'
import { fifo as fromProducer } from '@logkit/transport-fifo/producer'
import t from 'tap'
import { runtimeEnv, waitFor } from './helpers.js'

t.test('two copies of the transport never hand out one pipe name twice', async (t) => {
  t.not(fromMain, fromProducer, 'the entry points are two copies of the transport')
  const env = runtimeEnv()
  const handle = acquireSession('copies', env)
  handle.session.setTransport('fifo', { dir: handle.session.paths.appDir })
  const a = fromMain({ app: 'copies', env, source: 'w', heartbeatMs: 0 })
  const b = fromProducer({ app: 'copies', env, source: 'w', heartbeatMs: 0 })
  await waitFor(() => existsSync(a.stats().path ?? '') && existsSync(b.stats().path ?? ''), 'both pipes made')
  t.not(a.stats().path, b.stats().path, 'each logger has a pipe of its own')
  await Promise.all([a.close(), b.close()])
  handle.release()
})
