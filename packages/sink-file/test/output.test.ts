// Output writes a batch at once while direct writes are quick, and through
// sonic-boom's thread-pool writes for a while after a slow one. Bytes
// appended while a thread-pool write is in flight are handed over in one
// piece when they follow each other in memory: whatever mix of adjacent views
// and separate buffers comes, the file holds them in order, each append's
// promise resolves once its bytes are in the file, and close() writes what is
// still held.

import { fstatSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { Output } from '../src/output.js'
import { openLogFile } from '../src/safe-open.js'

for (const direct of [false, true]) {
  t.test(
    `appends, adjacent or not, reach the file in order (${direct ? 'direct writes' : 'thread pool'})`,
    async (t) => {
      const dir = tempDir('logkit-output-')
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
      const path = join(dir, 'out.log')
      const out = new Output(path, openLogFile(path, 0o600), { direct })
      // One line buffer cut into consecutive views (as BatchLines hands them out), with separate buffers between.
      const arena = Buffer.alloc(4 * 1024 * 1024)
      let at = 0
      const expected: Buffer[] = []
      const done: Promise<void>[] = []
      let checked = 0
      for (let k = 0; k < 3000; k++) {
        const line = Buffer.from(`{"k":${k},"pad":"${'x'.repeat(k % 300)}"}\n`)
        let bytes: Buffer
        if (k % 7 === 3) bytes = Buffer.from(line)
        else {
          line.copy(arena, at)
          bytes = arena.subarray(at, at + line.length)
          at += line.length
        }
        expected.push(line)
        const size = expected.reduce((n, b) => n + b.length, 0)
        done.push(
          out.append(bytes).then(() => {
            // Resolved only once its bytes are in the file.
            if (readFileSync(path).length >= size) checked++
          }),
        )
      }
      await Promise.all(done)
      t.equal(checked, 3000, 'every append resolved after its bytes were in the file')
      await out.close()
      t.same(readFileSync(path), Buffer.concat(expected), 'the file is every append, in order')
    },
  )
}

t.test('close writes what is still held', async (t) => {
  const dir = tempDir('logkit-output-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'out.log')
  const out = new Output(path, openLogFile(path, 0o600), { direct: false })
  const arena = Buffer.from('a\nb\nc\nd\n')
  for (let k = 0; k < 4; k++) void out.append(arena.subarray(2 * k, 2 * k + 2))
  await out.close()
  t.equal(readFileSync(path, 'utf8'), 'a\nb\nc\nd\n')
})

t.test('a quick write goes to the file before append returns', async (t) => {
  const dir = tempDir('logkit-output-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'out.log')
  const opened = openLogFile(path, 0o600)
  // No write counts as slow here (a stall of the machine must not move this file to the thread pool).
  const out = new Output(path, opened, { slowWriteMs: Number.POSITIVE_INFINITY })
  const sizes: number[] = []
  const expected: number[] = []
  let total = 0
  const done: Promise<void>[] = []
  for (let k = 0; k < 50; k++) {
    const line = Buffer.from(`{"k":${k}}\n`)
    total += line.length
    expected.push(total)
    done.push(out.append(line))
    sizes.push(fstatSync(opened.fd).size)
  }
  t.same(sizes, expected, 'each append was in the file when append returned')
  await Promise.all(done)
  await out.close()
  t.equal(readFileSync(path, 'utf8').split('\n').length, 51)
})

t.test(
  'after a slow direct write, writes go through the thread pool and in-flight appends are held',
  async (t) => {
    const dir = tempDir('logkit-output-')
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'out.log')
    const opened = openLogFile(path, 0o600)
    // Every direct write counts as slow: the first is direct, the next ones go to the thread pool.
    const out = new Output(path, opened, { slowWriteMs: 0 })
    // A direct write has resolved its promise before append returns; a thread's
    // write resolves it from a callback, at a later turn of the event loop.
    const settledNow = async (p: Promise<void>) => {
      let settled = false
      void p.then(() => {
        settled = true
      })
      await Promise.resolve()
      return settled
    }
    const first = out.append(Buffer.from('one\n'))
    t.equal(fstatSync(opened.fd).size, 4, 'the first append was written at once')
    t.ok(await settledNow(first), 'and its promise resolved with it')
    const arena = Buffer.from('two\nthree\nfour\n')
    const second = out.append(arena.subarray(0, 4))
    const rest = [out.append(arena.subarray(4, 10)), out.append(arena.subarray(10))]
    t.notOk(await settledNow(second), 'the next one was handed to a thread, not written at once')
    await Promise.all([first, second, ...rest])
    t.equal(readFileSync(path, 'utf8'), 'one\ntwo\nthree\nfour\n', 'in order, each once')
    await out.close()
  },
)
