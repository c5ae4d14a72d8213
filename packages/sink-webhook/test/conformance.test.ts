// The shared compliance suite of every logkit sink, run against the webhook
// sink with each preset that carries entries as JSON, against a real server.

import { sinkConformance } from '@logkit/core/testing'
import t from 'tap'
import { createWebhookSink } from '../src/index.js'
import { ndjson, startServer } from './helpers.js'

for (const preset of ['ndjson', 'json'] as const) {
  t.test(`the webhook sink (${preset}) passes the sink conformance suite`, async (t) => {
    const server = await startServer(t)
    await sinkConformance(t, {
      name: `webhook ${preset}`,
      create: async () => {
        server.received.length = 0
        const sink = createWebhookSink({ url: server.url, preset, batch: { maxWaitMs: 0 } })
        return {
          sink,
          read: async () =>
            server.received.flatMap((r) =>
              (preset === 'json' ? (JSON.parse(r.body.toString()) as { msg: string }[]) : ndjson(r.body)).map(
                (e) => e['msg'] as string,
              ),
            ),
        }
      },
    })
  })
}
