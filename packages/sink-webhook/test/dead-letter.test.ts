// The dead-letter file on its own: a record is in it whole or not at all (a
// short write is taken back out), a partial last line left by a crash does
// not swallow the next record, the folder is fsync'd whenever a name changed
// (created, rotated), and the entries of a removed file are counted in
// chunks, or reported as unknown when it cannot be read.

import { readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { countEntries, DeadLetterFile, type DeadLetterHeader, HEADER_PREFIX } from '../src/dead-letter.js'

const header = (entries: number): DeadLetterHeader => ({
  time: '2024-01-01T00:00:00.000Z',
  sink: 'hook',
  endpoint: 'http://127.0.0.1:1',
  reason: 'rejected',
  status: 400,
  attempts: 1,
  entries,
})
const lines = (from: number, n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => `{"level":30,"msg":"entry ${from + i}"}\n`).join(''))

/** A real open whose writev writes only the first half of what it is given (a disk that filled up). */
async function shortOpen(path: string, flags: number, mode: number): Promise<FileHandle> {
  const handle = await open(path, flags, mode)
  Object.assign(handle, {
    writev: async (buffers: Buffer[]) => {
      const all = Buffer.concat(buffers)
      const part = all.subarray(0, Math.floor(all.length / 2))
      await handle.write(part)
      return { bytesWritten: part.length, buffers }
    },
  })
  return handle
}

t.test('a short write is taken back out and fails the append', async (t) => {
  const path = join(t.testdir(), 'dead.ndjson')
  const ok = new DeadLetterFile({ path, maxBytes: 1 << 20, keep: 2, onDiscard: () => {} })
  await ok.append(header(2), lines(1, 2))
  const before = readFileSync(path)
  const short = new DeadLetterFile({
    path,
    maxBytes: 1 << 20,
    keep: 2,
    onDiscard: () => {},
    openFile: shortOpen,
  })
  await t.rejects(
    short.append(header(3), lines(3, 3)),
    { code: 'LOGKIT_ERR_WEBHOOK_DEAD_LETTER' },
    'the append fails with the dead-letter code (the write is not acknowledged)',
  )
  t.same(readFileSync(path), before, 'the file is back to what it held before: no partial record')
  await ok.append(header(1), lines(6, 1))
  const msgs = readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { msg?: string })
    .flatMap((l) => (l.msg === undefined ? [] : [l.msg]))
  t.same(msgs, ['entry 1', 'entry 2', 'entry 6'], 'the next record follows the whole ones')
})

t.test('a partial last line gets a newline before the next record', async (t) => {
  const path = join(t.testdir(), 'dead.ndjson')
  writeFileSync(path, `${HEADER_PREFIX}{"entries":1}}\n{"level":30,"msg":"cut sh`)
  const file = new DeadLetterFile({ path, maxBytes: 1 << 20, keep: 2, onDiscard: () => {} })
  await file.append(header(1), lines(1, 1))
  const text = readFileSync(path, 'utf8').split('\n')
  t.equal(text[1], '{"level":30,"msg":"cut sh', 'the partial line stays a line of its own')
  t.ok(text[2]?.startsWith(HEADER_PREFIX), 'the new record starts on the next line')
  t.equal(text[3], '{"level":30,"msg":"entry 1"}', 'with its entry whole')
})

t.test('the folder is fsync-ed when the file is created and after every rotation', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'dead.ndjson')
  const synced: string[] = []
  const file = new DeadLetterFile({
    path,
    maxBytes: 1000,
    keep: 3,
    onDiscard: () => {},
    syncFolder: async (d) => {
      synced.push(d)
    },
  })
  await file.append(header(1), lines(1, 1))
  t.same(synced, [dir], 'created: the folder is synced')
  await file.append(header(1), lines(2, 1))
  t.same(synced, [dir], 'appended to an existing file: not again')
  for (let i = 0; i < 4; i++) await file.append(header(2), lines(10 + i * 2, 2))
  t.ok(readFileSync(`${path}.1`).length > 0, 'the file was rotated')
  t.ok(synced.length >= 2, `after the rotation the folder was synced again (${synced.length} times)`)
})

t.test(
  'countEntries reads in chunks: lines across chunk boundaries, headers, a last line without newline',
  async (t) => {
    const path = join(t.testdir(), 'big.ndjson')
    const parts: string[] = []
    let want = 0
    for (let i = 0; i < 400; i++) {
      parts.push(`${HEADER_PREFIX}{"entries":2}}`)
      // Lines of odd lengths, some longer than a chunk, so that lines and header prefixes straddle chunks.
      parts.push(`{"msg":"${'x'.repeat((i * 997) % 70_000)}"}`, `{"msg":"${i}"}`)
      want += 2
    }
    parts.push('', '{"msg":"partial')
    want += 1
    writeFileSync(path, parts.join('\n'))
    t.equal(await countEntries(path), want, `${want} entries counted, headers and empty lines not`)
    t.equal(await countEntries(join(t.testdir(), 'none')), 0, 'a missing file holds none')
  },
)

t.test('a file removed by rotation that cannot be read is still reported, its count unknown', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'dead.ndjson')
  writeFileSync(join(dir, 'elsewhere'), `${HEADER_PREFIX}{}}\n{"msg":"x"}\n`)
  // A symlink at path.keep: opened without following it, it cannot be read.
  symlinkSync(join(dir, 'elsewhere'), `${path}.1`)
  const discards: [number | undefined, string][] = []
  const file = new DeadLetterFile({
    path,
    maxBytes: 100,
    keep: 1,
    onDiscard: (n, f) => discards.push([n, f]),
  })
  await file.append(header(1), lines(1, 1))
  await file.append(header(1), lines(2, 1))
  t.same(discards, [[undefined, `${path}.1`]], 'the removal is reported, with the count unknown')
})
