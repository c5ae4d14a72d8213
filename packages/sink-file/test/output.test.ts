// Output hands bytes appended while a write is in flight to sonic-boom in
// one piece when they follow each other in memory: whatever mix of adjacent
// views and separate buffers comes, the file holds them in order, each
// append's promise resolves once its bytes are in the file, and close()
// writes what is still held.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Output } from '../src/output.js'
import { openLogFile } from '../src/safe-open.js'

t.test('appends in flight, adjacent or not, reach the file in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'logkit-output-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'out.log')
  const out = new Output(path, openLogFile(path, 0o600))
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
})

t.test('close writes what is still held', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'logkit-output-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'out.log')
  const out = new Output(path, openLogFile(path, 0o600))
  const arena = Buffer.from('a\nb\nc\nd\n')
  for (let k = 0; k < 4; k++) void out.append(arena.subarray(2 * k, 2 * k + 2))
  await out.close()
  t.equal(readFileSync(path, 'utf8'), 'a\nb\nc\nd\n')
})
