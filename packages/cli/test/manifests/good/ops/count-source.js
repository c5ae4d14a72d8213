// A test source: emits `count` entries (msg "n <i>", fields { i }), then completes.
import { createEntry, defineSource, PLUGIN_API_VERSION, z } from '@logkit/core'
import { Observable } from 'rxjs'

export default defineSource({
  name: 'count',
  apiVersion: PLUGIN_API_VERSION,
  options: z.strictObject({ count: z.number().int().min(0).default(10) }),
  create: ({ count }, context) =>
    new Observable((subscriber) => {
      for (let i = 1; i <= count; i++) {
        subscriber.next(
          createEntry({ level: 30, msg: `n ${i}`, app: context.app, source: 'count', seq: i, fields: { i } }),
        )
      }
      subscriber.complete()
    }),
})
