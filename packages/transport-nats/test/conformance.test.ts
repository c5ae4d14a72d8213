// The shared sink compliance suite, against a real nats-server: what the sink
// made durable is read back from the stream, message by message, in order.

import { sinkConformance } from '@logkit/core/testing'
import { EntryIndex, SPAN_MESSAGE } from '@logkit/core/wire'
import { jetstreamManager } from '@nats-io/jetstream'
import t from 'tap'
import { createNatsSink, natsSinkOptions } from '../src/index.js'
import { client, startServer } from './helpers.js'

const server = await startServer(t)
const nc = await client(t, server.url)
let n = 0

for (const encoding of ['frames', 'ndjson'] as const) {
  await sinkConformance(t, {
    name: `nats (${encoding})`,
    create: async () => {
      n++
      const stream = `CONF${n}`
      const sink = createNatsSink(
        natsSinkOptions.parse({
          servers: server.url,
          encoding,
          subject: `conf${n}.{app}`,
          stream: { name: stream, subjects: [`conf${n}.>`] },
        }),
        { report: () => {} },
      )
      return {
        sink,
        read: async () => {
          const jsm = await jetstreamManager(nc)
          const messages: string[] = []
          const { state } = await jsm.streams.info(stream)
          for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
            const m = await jsm.streams.getMessage(stream, { seq })
            if (m === null) continue
            const buf = Buffer.from(m.data)
            if (encoding === 'frames') {
              const index = new EntryIndex()
              index.index(buf)
              for (let i = 0; i < index.entries; i++) messages.push(index.text(i, SPAN_MESSAGE))
            } else {
              for (const line of buf.toString().split('\n')) if (line) messages.push(JSON.parse(line).msg)
            }
          }
          return messages
        },
      }
    },
  })
}
