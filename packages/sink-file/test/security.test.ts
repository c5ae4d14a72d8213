// What the sink refuses and how it creates files: no symlink is followed at
// the log path, files are created 0600 by default, folders only on request.

import { mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { createFileSink } from '../src/index.js'
import { entries, messages } from './helpers.js'

t.test('a symlink planted at the log path is refused, and its target left alone', async (t) => {
  const dir = t.testdir({ 'victim.txt': 'precious' })
  const path = join(dir, 'app.log')
  symlinkSync(join(dir, 'victim.txt'), path)
  t.throws(
    () => createFileSink({ path }),
    { code: 'LOGKIT_ERR_FILE_UNSAFE' },
    'refused with LOGKIT_ERR_FILE_UNSAFE',
  )
  t.equal(readFileSync(join(dir, 'victim.txt'), 'utf8'), 'precious', 'the target is unchanged')
})

t.test('a dangling symlink at the log path is refused too (it would create the target)', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  symlinkSync(join(dir, 'created-through-the-link.txt'), path)
  t.throws(() => createFileSink({ path }), { code: 'LOGKIT_ERR_FILE_UNSAFE' }, 'refused')
  t.throws(
    () => statSync(join(dir, 'created-through-the-link.txt')),
    { code: 'ENOENT' },
    'nothing was created',
  )
})

t.test('a folder at the log path is refused', async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'app.log'))
  t.throws(
    () => createFileSink({ path: join(dir, 'app.log') }),
    { code: 'LOGKIT_ERR_FILE_UNSAFE' },
    'refused',
  )
})

t.test('a symlink replacing the log file before a reopen is refused at the reopen', async (t) => {
  const dir = t.testdir({ 'victim.txt': 'precious' })
  const path = join(dir, 'app.log')
  const sink = createFileSink({ path })
  await sink.write(entries(1))
  renameSync(path, join(dir, 'app.log.1'))
  symlinkSync(join(dir, 'victim.txt'), path)
  await t.rejects(sink.reopen(), { code: 'LOGKIT_ERR_FILE_UNSAFE' }, 'the reopen is refused')
  await t.rejects(sink.write(entries(1, 2)), { code: 'LOGKIT_ERR_FILE_UNSAFE' }, 'and so is the next write')
  t.equal(readFileSync(join(dir, 'victim.txt'), 'utf8'), 'precious', 'the target is unchanged')
  await sink.close()
})

t.test('the log file is created 0600 by default, or with the mode option', async (t) => {
  const dir = t.testdir()
  const a = createFileSink({ path: join(dir, 'a.log') })
  const b = createFileSink({ path: join(dir, 'b.log'), mode: '0640' })
  const c = createFileSink({ path: join(dir, 'c.log'), mode: 0o604 })
  await Promise.all([a.close(), b.close(), c.close()])
  t.equal(statSync(join(dir, 'a.log')).mode & 0o777, 0o600, 'default 0600')
  t.equal(statSync(join(dir, 'b.log')).mode & 0o777, 0o640, "'0640' as octal text")
  t.equal(statSync(join(dir, 'c.log')).mode & 0o777, 0o604, '0o604 as a number')
})

t.test('an existing file keeps its mode', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  writeFileSync(path, '', { mode: 0o644 })
  const sink = createFileSink({ path })
  await sink.write(entries(1))
  await sink.close()
  t.equal(statSync(path).mode & 0o777, 0o644, 'the sink does not change the mode of a file it did not create')
})

t.test('a missing folder is an error unless mkdir is set', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'nested', 'deeper', 'app.log')
  t.throws(() => createFileSink({ path }), { code: 'LOGKIT_ERR_FILE_DIR_MISSING' }, 'without mkdir: refused')
  const sink = createFileSink({ path, mkdir: true })
  await sink.write(entries(1))
  await sink.close()
  t.same(messages(path), ['entry 1'], 'with mkdir: the folders are made and the file written')
  t.equal(statSync(join(dir, 'nested', 'deeper')).mode & 0o777, 0o700, 'folders for 0600 files are made 0700')
})

t.test('mkdir where no folder can be made (under /proc) is an error at once, not a spin', (t) => {
  // Node's own recursive mkdir loops forever there: the sink makes one level at a time.
  t.throws(() => createFileSink({ path: '/proc/logkit-test/logs/app.log', mkdir: true }), {
    code: 'LOGKIT_ERR_FILE_OPEN',
    message: /cannot create the folder of log file .* \(ENOENT\)/,
  })
  t.end()
})

t.test('mkdir makes folders that match a group-readable mode', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'logs', 'app.log')
  const sink = createFileSink({ path, mkdir: true, mode: '0640' })
  await sink.close()
  t.equal(statSync(join(dir, 'logs')).mode & 0o777, 0o750, '0640 files get a 0750 folder')
})

t.test('a log file that cannot be opened is LOGKIT_ERR_FILE_OPEN', async (t) => {
  const dir = t.testdir({ 'a-file': '' })
  t.throws(
    () => createFileSink({ path: join(dir, 'a-file', 'app.log') }),
    { code: 'LOGKIT_ERR_FILE_OPEN' },
    'a path through a regular file (ENOTDIR) cannot be opened',
  )
})

t.test('write, flush and close after close()', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path })
  await sink.close()
  await t.rejects(sink.write(entries(1)), { code: 'LOGKIT_ERR_FILE_CLOSED' }, 'write() is refused')
  await t.rejects(sink.reopen(), { code: 'LOGKIT_ERR_FILE_CLOSED' }, 'reopen() is refused')
  await t.resolves(sink.flush(), 'flush() after close() is a no-op')
  await t.resolves(sink.close(), 'close() twice is fine')
})
