import { spawnSync } from 'node:child_process'
import { rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { makeDirs } from '../src/make-dirs.js'
import { syncDir } from '../src/sync-dir.js'
import { tempDir } from '../src/testing/index.js'

t.test('creates the missing levels with the mode, returns the first it made', (t) => {
  const base = tempDir('logkit-mkdirs-')
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  const dir = join(base, 'a', 'b', 'c')
  t.equal(makeDirs(dir, 0o700), join(base, 'a'))
  t.equal(statSync(dir).mode & 0o777, 0o700)
  t.equal(statSync(join(base, 'a')).mode & 0o777, 0o700)
  t.equal(makeDirs(dir, 0o700), undefined, 'nothing to make the second time')
  writeFileSync(join(base, 'file'), '')
  t.throws(() => makeDirs(join(base, 'file', 'x'), 0o700), { code: 'ENOTDIR' })
  t.end()
})

t.test('a path under /proc ends with an error (Node’s recursive mkdir spins there)', (t) => {
  // In a child with a deadline: a loop would time out rather than hang the test.
  // The built module (tests run after the build): a plain node child loads it.
  const module = fileURLToPath(new URL('../dist/make-dirs.js', import.meta.url))
  const result = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { makeDirs } from ${JSON.stringify(module)}; try { makeDirs('/proc/logkit-test/logs', 0o700); console.log('made') } catch (err) { console.log(err.code) }`,
    ],
    { encoding: 'utf8', timeout: 20_000, env: { ...process.env, NODE_OPTIONS: '' } },
  )
  t.equal(result.signal, null, 'ended by itself, not by the deadline')
  t.match(
    result.stdout.trim(),
    /^E[A-Z]+$/,
    `an errno (${result.stdout.trim()} ${result.stderr.slice(0, 200)})`,
  )
  t.end()
})

t.test('syncDir fsyncs a folder, and lets a folder it cannot open be', async (t) => {
  const dir = t.testdir({ a: 'x' })
  await t.resolves(syncDir(dir), 'a folder is fsync’d')
  await t.resolves(
    syncDir(join(dir, 'missing')),
    'a missing one is not an error: the files’ own fsync is all there is',
  )
})
