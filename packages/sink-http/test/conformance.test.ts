// The shared compliance suite of every logkit sink, run against the http sink:
// what it has "made durable" is what it keeps for the browsers that connect.

import { sinkConformance } from '@logkit/core/testing'
import t from 'tap'
import { createHttpSink } from '../src/index.js'

t.test('the http sink passes the sink conformance suite', async (t) => {
  await sinkConformance(t, {
    name: 'http',
    create: async () => {
      const sink = await createHttpSink({ port: 0 })
      return { sink, read: async () => sink.server.recent().map((e) => e['msg'] as string) }
    },
  })
})
