// A sink for the soak manifest that fails at random: each write fails with
// probability FLAKY_P (default 0.2), otherwise appends the entries' seq
// numbers to FLAKY_OUT as `pid source i` lines. Loaded by path from the manifest.

import { appendFileSync } from 'node:fs'
import { defineSink, PLUGIN_API_VERSION, z } from '@logkit/core'

const p = Number(process.env.FLAKY_P ?? 0.2)

export default defineSink({
  name: 'flaky',
  apiVersion: PLUGIN_API_VERSION,
  options: z.object({ path: z.string() }).strict(),
  create: ({ path }) => ({
    write(batch) {
      if (Math.random() < p) throw new Error('flaky sink: failing this write on purpose')
      let text = ''
      for (const e of batch) {
        const i = e.fields.get('i')
        if (e.source !== 'logkit' && typeof i === 'number') text += `${e.pid} ${e.source} ${i}\n`
      }
      if (text !== '') appendFileSync(path, text)
    },
    flush() {},
    close() {},
  }),
})
