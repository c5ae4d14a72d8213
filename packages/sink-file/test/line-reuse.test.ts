// The sink renders each write's lines into a line buffer and starts again at
// its beginning once every byte it took from it is written. With writes in
// the thread pool (as after a slow disk), many writes are in flight at once:
// the buffer must not be reused under bytes a write still holds. Writes are
// fired without waiting, through write() (decoded entries, JsonLineWriter)
// and writeEntries() (bytes, BatchLines), and the file must hold every line
// once, in order, as written.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { createFileSink } from '../src/index.js'
import { outputDefaults } from '../src/output.js'
import { batchOf, jsonLines } from './frames.js'
import { entries } from './helpers.js'

for (const direct of [false, true]) {
  t.test(
    `many writes in flight, ${direct ? 'direct writes' : 'thread-pool writes'}: every line once, in order`,
    async (t) => {
      const saved = { ...outputDefaults }
      outputDefaults.direct = direct
      t.teardown(() => Object.assign(outputDefaults, saved))
      const path = join(t.testdir(), 'app.log')
      const sink = createFileSink({ path })
      const written: Promise<void>[] = []
      const expected: string[] = []
      for (let w = 0; w < 400; w++) {
        // Writes of a few dozen lines each, some over 64 KiB together, alternating the two paths.
        const batch = entries(10 + (w % 37) * 5, w * 1000, `write ${w} ${'x'.repeat(w % 200)}`)
        expected.push(jsonLines(batch))
        written.push(w % 2 === 0 ? sink.write(batch) : sink.writeEntries([batchOf(batch)]))
      }
      await Promise.all(written)
      await sink.close()
      const text = readFileSync(path, 'utf8')
      t.equal(text.length, expected.join('').length, 'the file is as long as every line once')
      t.ok(text === expected.join(''), 'the file holds every write’s lines, in order, unchanged')
    },
  )
}
