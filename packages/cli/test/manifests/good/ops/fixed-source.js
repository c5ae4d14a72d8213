// A test source: emits one entry per message (source "fixed"), and one entry
// (msg "hello") for each pid of 1..pids (source "p<pid>"), then stays open
// without emitting more until the pipeline closes, so that it keeps running.
import { createEntry, defineSource, PLUGIN_API_VERSION, z } from '@logkit/core'
import { Observable } from 'rxjs'

export default defineSource({
  name: 'fixed',
  apiVersion: PLUGIN_API_VERSION,
  options: z.strictObject({
    messages: z.array(z.string()).default([]),
    pids: z.number().int().min(0).default(0),
  }),
  create: ({ messages, pids }, context) =>
    new Observable((subscriber) => {
      let seq = 0
      for (const msg of messages) {
        subscriber.next(createEntry({ level: 30, msg, app: context.app, source: 'fixed', seq: ++seq }))
      }
      for (let pid = 1; pid <= pids; pid++) {
        subscriber.next(
          createEntry({ level: 30, msg: 'hello', app: context.app, source: `p${pid}`, pid, seq: 1 }),
        )
      }
    }),
})
