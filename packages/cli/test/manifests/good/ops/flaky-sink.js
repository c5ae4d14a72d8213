// A test sink whose creation fails the first `failures` times in this process
// (counted in a global), then writes lines to `path`.
import { appendFileSync } from 'node:fs'
import { defineSink, PLUGIN_API_VERSION, z } from '@logkit/core'

globalThis.flakySinkAttempts ??= 0

export default defineSink({
  name: 'flaky',
  apiVersion: PLUGIN_API_VERSION,
  options: z.strictObject({ path: z.string(), failures: z.number().int().min(0).default(1) }),
  create: ({ path, failures }) => {
    globalThis.flakySinkAttempts++
    if (globalThis.flakySinkAttempts <= failures)
      throw new Error(`flaky sink: attempt ${globalThis.flakySinkAttempts} fails`)
    return { write: (batch) => appendFileSync(path, batch.map((e) => `${e.msg}\n`).join('')) }
  },
})
