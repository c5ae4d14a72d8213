// The file sink never changes bytes it did not write. A file that was already
// at the path is appended to after its last newline, byte for byte untouched,
// or refused when it ends in a partial line; only a line the sink itself wrote
// and a crash tore is ever cut. Which bytes are its own is kept in a private
// record beside the log (.<name>.logkit), written at open and rotation only.

import {
  appendFileSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { formatJson, isLogkitError } from '@logkit/core'
import t, { type Test } from 'tap'
import { createFileSink } from '../src/index.js'
import { diagnostics, entries, linesOf, rotatedFiles } from './helpers.js'

const RECORD = '.app.log.logkit'

/** The bytes the sink appended after `prefix`, as lines; fails the test if the prefix changed. */
function after(t: Test, path: string, prefix: Buffer): string[] {
  const bytes = readFileSync(path)
  t.same(
    bytes.subarray(0, prefix.length),
    prefix,
    'the bytes that were there before are unchanged, byte for byte',
  )
  const rest = bytes.subarray(prefix.length).toString('utf8')
  t.ok(rest.endsWith('\n'), 'what the sink appended ends with a newline')
  return rest.slice(0, -1).split('\n')
}

t.test('a foreign file that ends with a newline is appended to after its last byte, untouched', async (t) => {
  const original = Buffer.from('written by someone else\n{"not":"ours"}\n\u00e9t\u00e9 \x00 raw bytes\n')
  const dir = t.testdir({ 'app.log': original })
  const path = join(dir, 'app.log')
  const seen = diagnostics()
  const sink = createFileSink({ path }, { report: seen.report })
  await sink.write(entries(3))
  await sink.close()
  const lines = after(t, path, original)
  t.same(
    lines.map((l) => JSON.parse(l).msg),
    ['entry 1', 'entry 2', 'entry 3'],
    'the three entries follow the foreign bytes, one line each',
  )
  t.notOk(seen.codes().includes('torn_tail'), 'nothing was reported torn')
  const record = JSON.parse(readFileSync(join(dir, RECORD), 'utf8'))
  t.equal(record.offset, original.length, 'the record says the sink writes from the foreign file’s end on')
  t.equal(statSync(join(dir, RECORD)).mode & 0o777, 0o600, 'the record is private (0600)')
})

t.test('a foreign file that ends in a partial line is refused with a code and left unchanged', async (t) => {
  const original = Buffer.from('first line\nsecond line without its end')
  const dir = t.testdir({ 'app.log': original })
  const path = join(dir, 'app.log')
  const mtime = statSync(path).mtimeMs
  let err: unknown
  try {
    createFileSink({ path })
  } catch (e) {
    err = e
  }
  t.ok(
    isLogkitError(err, 'LOGKIT_ERR_FILE_FOREIGN_TAIL'),
    `createFileSink throws LOGKIT_ERR_FILE_FOREIGN_TAIL (got ${String((err as { code?: string })?.code ?? err)})`,
  )
  t.same(readFileSync(path), original, 'the file holds exactly the bytes it held before')
  t.equal(statSync(path).mtimeMs, mtime, 'and was not written to at all')
  t.notOk(existsSync(join(dir, RECORD)), 'no record claims the file')
})

t.test('a file with no newline at all is refused and left unchanged', async (t) => {
  const original = Buffer.from('someone else wrote this')
  const dir = t.testdir({ 'app.log': original })
  const path = join(dir, 'app.log')
  t.throws(
    () => createFileSink({ path }),
    { code: 'LOGKIT_ERR_FILE_FOREIGN_TAIL' },
    'the sink refuses to start on it',
  )
  t.same(readFileSync(path), original, 'not ended with a newline, not cut: byte for byte as it was')
})

t.test(
  'a torn line of its own after a foreign prefix is cut back to where the sink began, never below',
  async (t) => {
    const foreign = Buffer.from('line of another program\n')
    const dir = t.testdir({ 'app.log': foreign })
    const path = join(dir, 'app.log')
    const first = createFileSink({ path })
    await first.close()
    // A crash in the sink's first write: part of its line is in the file.
    appendFileSync(path, '{"level":30,"ti')
    const seen = diagnostics()
    const sink = createFileSink({ path }, { report: seen.report })
    await sink.write(entries(1))
    await sink.close()
    const lines = after(t, path, foreign)
    t.same(
      lines.map((l) => JSON.parse(l).msg),
      ['entry 1'],
      'the torn bytes are gone, the new entry follows',
    )
    const torn = seen.seen.find((d) => d.code === 'torn_tail')
    t.equal(torn?.details?.['bytes'], 15, 'torn_tail reports the 15 bytes removed')
  },
)

t.test('a record of another file does not make a stranger’s torn line ours', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  const sink = createFileSink({ path })
  await sink.write(entries(2))
  await sink.close()
  // Someone replaces the log with a file of their own that ends mid-line.
  const stranger = Buffer.from(`${formatJson(entries(1)[0]!)}\n{"half":`)
  writeFileSync(join(dir, 'other'), stranger)
  renameSync(join(dir, 'other'), path)
  t.throws(
    () => createFileSink({ path }),
    { code: 'LOGKIT_ERR_FILE_FOREIGN_TAIL' },
    'the record names the old file (another inode): the new one is foreign and refused',
  )
  t.same(readFileSync(path), stranger, 'the stranger’s file is unchanged')
})

t.test('a record that is a symlink is not followed, and is replaced by a file of its own', async (t) => {
  const dir = t.testdir({ 'victim.txt': 'precious\n', 'app.log': 'theirs\n' })
  const path = join(dir, 'app.log')
  symlinkSync(join(dir, 'victim.txt'), join(dir, RECORD))
  const sink = createFileSink({ path })
  await sink.write(entries(1))
  await sink.close()
  t.equal(readFileSync(join(dir, 'victim.txt'), 'utf8'), 'precious\n', 'the symlink’s target is untouched')
  t.ok(lstatSync(join(dir, RECORD)).isFile(), 'the record is now a regular file')
  t.same(
    after(t, path, Buffer.from('theirs\n')).map((l) => JSON.parse(l).msg),
    ['entry 1'],
    'the foreign line stays and the entry follows it',
  )
})

t.test(
  'rotation gives the new file a new record; retention and naming never take the record for a rotated file',
  async (t) => {
    const dir = t.testdir()
    const path = join(dir, 'app.log')
    const sink = createFileSink({ path, rotate: { size: 300, keep: 1, compress: true }, history: 5 })
    for (let b = 0; b < 6; b++) await sink.write(entries(2, 2 * b + 1))
    await sink.settled()
    const live = statSync(path)
    const record = JSON.parse(readFileSync(join(dir, RECORD), 'utf8'))
    t.same(
      [record.ino, record.offset],
      [live.ino, 0],
      'the record names the live file (created by the last rotation), ours from byte 0',
    )
    await sink.close()
    t.ok(existsSync(join(dir, RECORD)), 'retention (keep: 1) left the record alone')
    t.equal(rotatedFiles(path).length, 1, 'and kept exactly one rotated file')
    t.notOk(
      rotatedFiles(path).some((f) => f.includes('logkit')),
      'the record is not among the rotated files',
    )
    t.same(
      readdirSync(dir).filter((n) => n.includes('.tmp')),
      [],
      'no temporary file is left behind',
    )
    // A crash tears the live file's last line: the next start cuts it, since the record says it is ours.
    appendFileSync(path, '{"level":3')
    const seen = diagnostics()
    const again = createFileSink({ path, rotate: { size: 300, keep: 1 } }, { report: seen.report })
    await again.close()
    t.ok(seen.codes().includes('torn_tail'), 'the torn line in the rotated-into file is ours and is cut')
    t.doesNotThrow(() => linesOf(path), 'the live file ends with a whole line')
  },
)

t.test(
  'reopen() after an external rename claims the new file; a foreign file put there is not cut',
  async (t) => {
    const dir = t.testdir()
    const path = join(dir, 'app.log')
    const sink = createFileSink({ path })
    await sink.write(entries(2))
    renameSync(path, join(dir, 'app.log.1'))
    const foreign = Buffer.from('created by the rotation tool\n')
    writeFileSync(path, foreign)
    await sink.reopen()
    await sink.write(entries(2, 3))
    await sink.close()
    const lines = after(t, path, foreign)
    t.same(
      lines.map((l) => JSON.parse(l).seq),
      [3, 4],
      'entries after the reopen follow the foreign bytes in the new file',
    )
    unlinkSync(join(dir, 'app.log.1'))
  },
)
