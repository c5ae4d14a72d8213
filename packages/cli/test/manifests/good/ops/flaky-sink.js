// A test sink whose creation fails the first `failures` times in this process
// (counted in a global) with a LogkitError of its own code, then writes lines to `path`.
import { appendFileSync } from 'node:fs'
import { defineSink, LogkitError, PLUGIN_API_VERSION, z } from '@logkit/core'

globalThis.flakySinkAttempts ??= 0

export default defineSink({
  name: 'flaky',
  apiVersion: PLUGIN_API_VERSION,
  options: z.strictObject({ path: z.string(), failures: z.number().int().min(0).default(1) }),
  create: ({ path, failures }) => {
    globalThis.flakySinkAttempts++
    if (globalThis.flakySinkAttempts <= failures)
      throw new LogkitError(
        'LOGKIT_ERR_FLAKY_CREATE',
        `flaky sink: attempt ${globalThis.flakySinkAttempts} fails`,
      )
    return { write: (batch) => appendFileSync(path, batch.map((e) => `${e.msg}\n`).join('')) }
  },
})
