import { spawn } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import {
  checkAppName,
  ensureAppDir,
  ensurePrivateDir,
  openPrivateFile,
  runtimeDir,
  runtimePaths,
} from '../src/runtime-dir.js'
import * as sessionModule from '../src/session.js'
import { openSession, processAlive, readSession } from '../src/session.js'
import { tempDir } from '../src/testing/index.js'

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))

function env() {
  const base = tempDir('logkit-rt-')
  return { LOGKIT_RUNTIME_DIR: join(base, 'run'), LOGKIT_SHM_DIR: join(base, 'shm') }
}

const mode = (path: string) => statSync(path).mode & 0o777

t.test(
  'the runtime directory comes from LOGKIT_RUNTIME_DIR, then XDG_RUNTIME_DIR, then the temp dir',
  (t) => {
    t.equal(
      runtimeDir({ LOGKIT_RUNTIME_DIR: '/x/y', XDG_RUNTIME_DIR: '/run/user/1' }),
      '/x/y',
      'explicit wins',
    )
    t.equal(runtimeDir({ XDG_RUNTIME_DIR: '/run/user/1' }), '/run/user/1/logkit', 'then XDG')
    t.match(runtimeDir({}), /logkit-\d+$/, 'then a per-user dir in tmp')
    t.match(
      runtimePaths('app', { LOGKIT_RUNTIME_DIR: '/x' }).memoryDir,
      /^\/dev\/shm\/logkit-\d+\/app$/,
      'rings live in /dev/shm',
    )
    t.end()
  },
)

t.test('app names that are not one safe path segment are refused', (t) => {
  for (const bad of ['', '..', '.hidden', 'a/b', 'a b', 'x'.repeat(200)]) {
    t.throws(
      () => checkAppName(bad),
      { code: 'LOGKIT_ERR_APP_NAME_INVALID' },
      JSON.stringify(bad.slice(0, 20)),
    )
  }
  t.equal(checkAppName('demo-app_1.2'), 'demo-app_1.2', 'a normal name passes')
  t.end()
})

t.test(
  'directories are created 0700 and files 0600; an existing one opened up is refused, not changed',
  (t) => {
    const e = env()
    const paths = ensureAppDir('demo', e)
    t.equal(mode(paths.runtimeDir), 0o700, 'runtime dir 0700')
    t.equal(mode(paths.appDir), 0o700, 'app dir 0700')
    const session = openSession('demo', { env: e })
    t.equal(mode(paths.sessionFile), 0o600, 'session file 0600')
    t.equal(mode(paths.lockFile), 0o600, 'lock file 0600')
    session.close()
    chmodSync(paths.appDir, 0o755)
    t.throws(
      () => ensureAppDir('demo', e),
      { code: 'LOGKIT_ERR_RUNTIME_DIR_SHARED', details: { path: paths.appDir, mode: '0755' } },
      'a 0755 app dir is refused',
    )
    t.equal(mode(paths.appDir), 0o755, 'and its mode is left as it was')
    t.end()
  },
)

t.test(
  'LOGKIT_RUNTIME_DIR: a shared sticky directory keeps its mode; logkit works in its own inside',
  (t) => {
    const base = tempDir('logkit-rt-')
    // What /tmp is: 1777. As root, the collector owns it too, which is where it used to become 0700.
    const shared = join(base, 'shared')
    mkdirSync(shared)
    chmodSync(shared, 0o1777)
    const e = { LOGKIT_RUNTIME_DIR: shared, LOGKIT_SHM_DIR: join(base, 'shm') }
    const session = openSession('demo', { env: e })
    t.equal(statSync(shared).mode & 0o7777, 0o1777, 'the shared directory is still 1777')
    t.equal(
      session.paths.runtimeDir,
      join(shared, `logkit-${process.getuid?.()}`),
      'the runtime dir is logkit-<uid> in it',
    )
    t.equal(mode(session.paths.runtimeDir), 0o700, 'made 0700 by logkit')
    t.equal(readSession('demo', e)?.pid, process.pid, 'producers find the session there')
    session.close()
    t.equal(statSync(shared).mode & 0o7777, 0o1777, 'and it is still 1777 after the session')
    t.end()
  },
)

t.test(
  'LOGKIT_RUNTIME_DIR: an existing private directory is used as it is; one open to others is refused',
  (t) => {
    const base = tempDir('logkit-rt-')
    const mine = join(base, 'mine')
    mkdirSync(mine, { mode: 0o700 })
    const session = openSession('demo', { env: { LOGKIT_RUNTIME_DIR: mine } })
    t.equal(session.paths.runtimeDir, mine, 'used directly')
    session.close()
    const open = join(base, 'open')
    mkdirSync(open)
    chmodSync(open, 0o755)
    t.throws(
      () => openSession('demo', { env: { LOGKIT_RUNTIME_DIR: open } }),
      { code: 'LOGKIT_ERR_RUNTIME_DIR_SHARED', details: { path: open } },
      'a 0755 directory logkit did not create is refused',
    )
    t.equal(mode(open), 0o755, 'and keeps its mode')
    const fresh = join(base, 'new', 'run')
    openSession('demo', { env: { LOGKIT_RUNTIME_DIR: fresh } }).close()
    t.equal(mode(fresh), 0o700, 'a directory that did not exist is created 0700')
    t.equal(mode(join(base, 'new')), 0o700, 'its missing parents too')
    t.end()
  },
)

t.test("a stranger's directory is refused, whatever its mode", (t) => {
  const base = tempDir('logkit-rt-')
  let stranger = '/usr'
  if (process.getuid?.() === 0) {
    stranger = join(base, 'stranger')
    mkdirSync(stranger, { mode: 0o700 })
    chownSync(stranger, 65534, 65534)
  }
  t.throws(
    () => ensurePrivateDir(stranger),
    { code: 'LOGKIT_ERR_RUNTIME_DIR_UNSAFE' },
    `${stranger}, owned by uid ${statSync(stranger).uid}`,
  )
  const planted = join(base, 'planted')
  mkdirSync(planted, { mode: 0o700 })
  symlinkSync(planted, join(base, 'link'))
  t.throws(
    () => ensurePrivateDir(join(base, 'link')),
    { code: 'LOGKIT_ERR_RUNTIME_DIR_UNSAFE' },
    'a symlink to a private directory of ours',
  )
  t.end()
})

t.test('a symlink where a directory or file should be is refused', (t) => {
  const e = env()
  const target = tempDir('logkit-elsewhere-')
  mkdirSync(e.LOGKIT_RUNTIME_DIR, { mode: 0o700 })
  symlinkSync(target, join(e.LOGKIT_RUNTIME_DIR, 'demo'))
  t.throws(() => ensureAppDir('demo', e), { code: 'LOGKIT_ERR_RUNTIME_DIR_UNSAFE' }, 'symlinked app dir')
  const paths = ensureAppDir('other', e)
  const planted = join(paths.appDir, 'planted')
  writeFileSync(join(target, 'victim'), 'keep me')
  symlinkSync(join(target, 'victim'), planted)
  t.throws(
    () => openPrivateFile(planted, constants.O_WRONLY | constants.O_CREAT),
    { code: 'LOGKIT_ERR_RUNTIME_DIR_UNSAFE' },
    'symlinked file',
  )
  t.equal(readFileSync(join(target, 'victim'), 'utf8'), 'keep me', 'and its target is untouched')
  t.end()
})

t.test('a session says who the collector is; producers find it by app name', (t) => {
  const e = env()
  t.equal(readSession('demo', e), undefined, 'no session before a collector')
  const session = openSession('demo', { env: e, transports: { memory: {} } })
  session.setTransport('fifo', { dir: session.paths.appDir })
  const info = readSession('demo', e)
  t.equal(info?.pid, process.pid, 'the collector pid')
  t.equal(info?.protocol, 1, 'the protocol version')
  t.same(Object.keys(info?.transports ?? {}), ['memory', 'fifo'], 'the transports it listens on')
  session.close()
  t.equal(readSession('demo', e), undefined, 'gone after close')
  t.end()
})

t.test('a session file left by a dead collector is not a session', (t) => {
  const e = env()
  const paths = ensureAppDir('demo', e)
  writeFileSync(paths.sessionFile, JSON.stringify({ app: 'demo', pid: 2 ** 22 + 1, transports: {} }), {
    mode: 0o600,
  })
  t.equal(readSession('demo', e), undefined, 'ignored')
  t.notOk(processAlive(2 ** 22 + 1), 'that pid is not alive')
  t.end()
})

t.test('a stale lock is taken over; a live collector of the same app is refused, named by pid', async (t) => {
  const e = env()
  const paths = ensureAppDir('demo', e)
  writeFileSync(paths.lockFile, `${2 ** 22 + 1}\n`, { mode: 0o600 })
  const mine = openSession('demo', { env: e })
  t.equal(
    readFileSync(paths.lockFile, 'utf8').split(' ')[0],
    String(process.pid),
    'the stale lock was taken over',
  )
  mine.close()

  // A real second process holds the session; this one must be refused.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { openSession } = await import(${JSON.stringify(dist)}); openSession('demo', { env: ${JSON.stringify(e)} }); console.log('ready'); setInterval(() => {}, 1000)`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
  t.throws(() => openSession('demo', { env: e }), {
    code: 'LOGKIT_ERR_SESSION_LOCKED',
    details: { pid: child.pid },
  })
  const other = openSession('other-app', { env: e })
  t.equal(readSession('other-app', e)?.pid, process.pid, 'another app runs side by side')
  other.close()
})

t.test('sources of one process share the app’s session; the last release closes it', (t) => {
  const e = env()
  const { acquireSession } = sessionModule
  const a = acquireSession('demo', e)
  const b = acquireSession('demo', e)
  t.equal(a.session, b.session, 'one session for both')
  a.session.setTransport('shm', { dir: 'x' })
  b.session.setTransport('fifo', { dir: 'y' })
  t.same(Object.keys(readSession('demo', e)?.transports ?? {}), ['shm', 'fifo'], 'both transports announced')
  a.release()
  t.ok(readSession('demo', e), 'still open while one user remains')
  b.release()
  b.release()
  t.equal(readSession('demo', e), undefined, 'closed by the last release, once')
  t.end()
})

t.test('a collector killed while taking over a stale lock does not block the app for good', (t) => {
  const e = env()
  const paths = ensureAppDir('demo', e)
  const dead = 2 ** 22 + 1
  writeFileSync(paths.lockFile, `${dead}\n`, { mode: 0o600 })
  // What a collector leaves when it is SIGKILLed holding the takeover ticket of that lock.
  const ticket = `${paths.lockFile}.${statSync(paths.lockFile).ino}.takeover`
  writeFileSync(ticket, `${dead + 1} x\n`, { mode: 0o600 })
  const session = openSession('demo', { env: e })
  t.equal(
    readFileSync(paths.lockFile, 'utf8').split(' ')[0],
    String(process.pid),
    'the stale lock was taken over past the dead ticket',
  )
  t.notOk(existsSync(ticket), 'and the dead ticket is gone')
  session.close()
  t.end()
})

t.test('a lock that names no pid is not taken over: the user is told what to do', (t) => {
  const e = env()
  const paths = ensureAppDir('demo', e)
  writeFileSync(paths.lockFile, '', { mode: 0o600 })
  t.throws(
    () => openSession('demo', { env: e }),
    { code: 'LOGKIT_ERR_SESSION_LOCK_UNREADABLE', details: { path: paths.lockFile } },
    'an empty lock (an older collector mid-start) is refused',
  )
  t.equal(readFileSync(paths.lockFile, 'utf8'), '', 'and left as it was')
  t.end()
})

t.test('a lock with this process’s pid: its own is held, one left by an earlier process is stale', (t) => {
  const e = env()
  const session = openSession('demo', { env: e })
  t.throws(
    () => openSession('demo', { env: e }),
    { code: 'LOGKIT_ERR_SESSION_LOCKED', details: { pid: process.pid } },
    'a second openSession in the same process is refused',
  )
  session.close()
  // A restarted container's collector gets the same pid as the one before it.
  writeFileSync(session.paths.lockFile, `${process.pid} earlier\n`, { mode: 0o600 })
  const again = openSession('demo', { env: e })
  t.not(
    readFileSync(session.paths.lockFile, 'utf8'),
    `${process.pid} earlier\n`,
    'the leftover lock was replaced',
  )
  again.close()
  t.notOk(existsSync(session.paths.lockFile), 'and close removed the new one')
  t.end()
})
