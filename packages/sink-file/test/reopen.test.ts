// Reopening the same path, in process: for an external logrotate that renames
// the file (SIGHUP or reopen()), and for one that copies and truncates it in
// place (copytruncate). The SIGHUP path with a real signal and a real child
// process is in sighup.test.ts.

import { copyFileSync, existsSync, readFileSync, renameSync, statSync, truncateSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { createFileSink } from '../src/index.js'
import { diagnostics, entries, linesOf, rotatedFiles } from './helpers.js'

t.test('each sink adds one SIGHUP listener and removes it on close', async (t) => {
  const dir = t.testdir()
  const before = process.listenerCount('SIGHUP')
  const a = createFileSink({ path: join(dir, 'a.log') })
  const b = createFileSink({ path: join(dir, 'b.log') })
  const off = createFileSink({ path: join(dir, 'c.log'), reopenOnSighup: false })
  t.equal(process.listenerCount('SIGHUP'), before + 2, 'one listener per sink that reopens on SIGHUP')
  await a.close()
  await a.close()
  t.equal(process.listenerCount('SIGHUP'), before + 1, 'close removes it, once')
  await b.close()
  await off.close()
  t.equal(process.listenerCount('SIGHUP'), before, 'all gone')
})

t.test('reopen() after an external rename starts a new file; nothing is lost', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  const sink = createFileSink({ path })
  await sink.write(entries(5, 1))
  renameSync(path, join(dir, 'app.log.1'))
  // Written after the rename but before the reopen: lands in the renamed file.
  await sink.write(entries(5, 6))
  await sink.reopen()
  t.ok(existsSync(path), 'a new file is at the path')
  t.equal(statSync(path).mode & 0o777, 0o600, 'created 0600')
  await sink.write(entries(5, 11))
  await sink.close()
  const seqs = [...linesOf(join(dir, 'app.log.1')), ...linesOf(path)].map((l) => JSON.parse(l).seq)
  t.same(
    seqs,
    entries(15).map((e) => e.seq),
    'both files together hold all 15 entries once, in order',
  )
  t.equal(linesOf(path).length, 5, 'the new file has what was written after the reopen')
  t.equal(sink.stats.reopens, 1, 'stats count the reopen')
})

t.test('SIGHUP to this process reopens the file', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  const sink = createFileSink({ path })
  await sink.write(entries(2))
  renameSync(path, join(dir, 'app.log.1'))
  process.kill(process.pid, 'SIGHUP')
  // The signal arrives through the event loop; a flush queues behind the reopen it starts.
  while (sink.stats.reopens === 0) await new Promise((resolve) => setImmediate(resolve))
  await sink.write(entries(1, 3))
  await sink.close()
  t.equal(linesOf(path).length, 1, 'the entry after the signal is in a new file')
  t.equal(linesOf(join(dir, 'app.log.1')).length, 2, 'the ones before it in the renamed file')
})

t.test('copytruncate: a file truncated under the sink is written on at its new start', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  const seen = diagnostics()
  const sink = createFileSink({ path, copytruncate: true, rotate: { size: 2048 } }, { report: seen.report })
  await sink.write(entries(15, 1))
  await sink.flush()
  const before = statSync(path).size
  t.ok(before > 1200 && before < 2048, `about 1.5 KiB written (${before} bytes)`)
  // What logrotate's copytruncate does.
  copyFileSync(path, join(dir, 'app.log.1'))
  truncateSync(path, 0)
  await sink.write(entries(10, 16))
  await sink.close()
  const text = readFileSync(path, 'utf8')
  t.notOk(text.includes('\0'), 'no hole of NUL bytes where the old content was')
  t.same(
    linesOf(path).map((l) => JSON.parse(l).seq),
    entries(10, 16).map((e) => e.seq),
    'the file holds exactly what came after the truncation',
  )
  t.same(rotatedFiles(path), [], 'the size is counted from the truncation: no early rotation')
  t.ok(seen.codes().includes('file_truncated'), 'file_truncated is reported')
})

t.test('without copytruncate, the size count is not corrected (and rotation comes early)', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  const sink = createFileSink({ path, rotate: { size: 2048 } })
  await sink.write(entries(15, 1))
  await sink.flush()
  truncateSync(path, 0)
  await sink.write(entries(10, 16))
  await sink.close()
  t.equal(rotatedFiles(path).length, 1, 'the sink rotated on its own count: why copytruncate exists')
})
