// The CLI in-process: help, version, usage errors, validate, and compose
// with sources that end by themselves (so compose ends too), with and
// without --restart.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { compose } from '../src/compose.js'
import { isolatedEnv, manifests, runCli, runInProcess } from './helpers.js'

const counted = join(manifests, 'good', 'counted.yaml')

/** A writable that hands each chunk to `onText`. */
function collect(onText: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      onText(chunk.toString())
      callback()
    },
  })
}

t.test('--version prints the package version and exits 0', async (t) => {
  const result = await runInProcess(['--version'])
  t.equal(result.code, 0, 'exit 0')
  t.match(result.stdout, /^\d+\.\d+\.\d+\n$/, 'a version number')
})

t.test('--help of every command exits 0 and shows examples', async (t) => {
  for (const command of [
    [],
    ['compose'],
    ['validate'],
    ['emit'],
    ['tail'],
    ['status'],
    ['flush'],
    ['level'],
    ['schema'],
  ]) {
    const result = await runInProcess([...command, '--help'])
    t.equal(result.code, 0, `logkit ${command.join(' ')} --help exits 0`)
    t.match(result.stdout, 'Examples:', `logkit ${command.join(' ')} --help has examples`)
  }
})

t.test('usage errors exit 2', async (t) => {
  t.equal((await runInProcess(['frobnicate'])).code, 2, 'an unknown command')
  t.equal((await runInProcess(['compose'])).code, 2, 'a missing argument')
  t.equal((await runInProcess(['tail'])).code, 2, 'a missing --app')
  t.equal((await runInProcess(['status', '--app', 'bad name'])).code, 2, 'an invalid app name')
  t.equal((await runInProcess(['level', '--app', 'x', 'loud'])).code, 2, 'an unknown level')
  const webJson = await runInProcess(['tail', '--app', 'x', '--web', '--json'])
  t.equal(webJson.code, 2, '--web with --json: a usage error, not ignored')
  t.match(webJson.stderr, /--web .* does not take --json/, 'saying which')
  const webOnce = await runInProcess(['tail', '--app', 'x', '--web', '--no-follow'])
  t.equal(webOnce.code, 2, '--web with --no-follow: a usage error, not ignored')
  t.match(webOnce.stderr, /does not take --no-follow/, 'saying which')
  const grep = await runInProcess(['tail', '--app', 'x', '--grep', '('])
  t.equal(grep.code, 2, 'a --grep pattern the collector would refuse')
  t.match(grep.stderr, /--grep "\(" is refused \(Invalid regular expression/, 'and it says why')
})

t.test('validate: a valid manifest exits 0 and prints one line per pipeline', async (t) => {
  const result = await runInProcess(['validate', join(manifests, 'good', 'full.yaml')])
  t.equal(result.code, 0, 'exit 0')
  t.match(result.stdout, 'main: shm, fifo → filter, rateLimit, upper → out, console', 'the main pipeline')
  t.match(result.stdout, 'stdin: stdin → console', 'the stdin pipeline')
  const json = await runInProcess(['validate', '--json', join(manifests, 'broken', 'many-problems.yaml')])
  t.equal(json.code, 2, '--json: still exit 2 when invalid')
  t.equal(
    (JSON.parse(json.stdout) as { problems: unknown[] }).problems.length,
    4,
    '--json lists the problems',
  )
})

t.test('validate: an unreadable file is a problem at 1:1, exit 2', async (t) => {
  const result = await runInProcess(['validate', join(manifests, 'nope.yaml')])
  t.equal(result.code, 2, 'exit 2')
  t.match(result.stderr, /nope\.yaml:1:1 .*\[LOGKIT_ERR_MANIFEST_READ\]/, 'the READ code at 1:1')
})

t.test('secrets from the environment are never printed', async (t) => {
  const { work: _w, ...env } = isolatedEnv()
  const result = await runInProcess(['validate', counted], {
    ...process.env,
    ...env,
    LOGKIT_TEST_OUT: 'x.log',
    LOGKIT_TEST_FAILURES: 'hunter2-secret',
  })
  t.equal(result.code, 2, 'exit 2')
  t.match(result.stderr, 'failures', 'names the option')
  t.notMatch(result.stderr, 'hunter2-secret', 'never prints the value')
})

t.test('compose runs until its sources end, prints summary and totals, exits 0', async (t) => {
  const { work, ...env } = isolatedEnv()
  const out = join(work, 'counted.log')
  let text = ''
  const sink = collect((s) => {
    text += s
  })
  const code = await compose(counted, {
    env: { ...process.env, ...env, LOGKIT_TEST_OUT: out },
    out: sink,
  })
  t.equal(code, 0, 'exit 0')
  t.match(text, 'main: count → upper → flaky', 'the summary line')
  t.match(text, 'main: 50 in; 50 out; written: flaky 50; dropped: none', 'the totals')
  const lines = readFileSync(out, 'utf8').trim().split('\n')
  t.same(
    lines,
    Array.from({ length: 50 }, (_, i) => `N ${i + 1}`),
    'every entry, through the user operator, in order',
  )
  t.notOk(existsSync(join(env.LOGKIT_RUNTIME_DIR, 'countapp', 'session.json')), 'the session is released')
})

t.test('compose: a pipeline that fails to start is reported; exit 1 without --restart', async (t) => {
  const { work, ...env } = isolatedEnv()
  ;(globalThis as { flakySinkAttempts?: number }).flakySinkAttempts = 0
  let text = ''
  const code = await compose(counted, {
    env: { ...process.env, ...env, LOGKIT_TEST_OUT: join(work, 'x.log'), LOGKIT_TEST_FAILURES: '1' },
    out: collect((s) => {
      text += s
    }),
  })
  t.equal(code, 1, 'exit 1')
  t.match(
    text,
    'main: failed to start: flaky sink: attempt 1 fails [LOGKIT_ERR_FLAKY_CREATE] [LOGKIT_ERR_CLI_PIPELINE_FAILED]',
    "the failure is reported, with the plugin's code to look up",
  )
  t.match(text, '1 failures', 'and counted in the totals')
})

t.test('compose --restart: the failed pipeline is started again with backoff', async (t) => {
  const { work, ...env } = isolatedEnv()
  ;(globalThis as { flakySinkAttempts?: number }).flakySinkAttempts = 0
  const out = join(work, 'restarted.log')
  let text = ''
  const code = await compose(counted, {
    env: { ...process.env, ...env, LOGKIT_TEST_OUT: out, LOGKIT_TEST_FAILURES: '2' },
    out: collect((s) => {
      text += s
    }),
    restart: true,
    minBackoffMs: 1,
  })
  t.equal(code, 0, 'exit 0 once it runs')
  t.match(text, 'restarting in', 'the restart is reported')
  t.match(text, '3 runs', 'two failed runs, then one that worked')
  t.equal(
    readFileSync(out, 'utf8').trim().split('\n').length,
    50,
    'the run that worked delivered every entry',
  )
})

t.test('compose: an abort signal stops it with exit 0', async (t) => {
  const { work, ...env } = isolatedEnv()
  ;(globalThis as { flakySinkAttempts?: number }).flakySinkAttempts = 0
  const abort = new AbortController()
  let text = ''
  let shmDir: string | undefined
  const done = compose(join(manifests, 'good', 'full.yaml'), {
    env: { ...process.env, ...env, LOGKIT_TEST_OUT: join(work, 'full.log') },
    out: collect((s) => {
      text += s
    }),
    signal: abort.signal,
    onRunning: () => {
      // The sources work in the folders of the environment compose was given,
      // not in those of this process's own.
      const session = JSON.parse(
        readFileSync(join(env.LOGKIT_RUNTIME_DIR, 'testapp', 'session.json'), 'utf8'),
      )
      shmDir = session.transports?.shm?.dir
      abort.abort()
    },
  })
  t.equal(await done, 0, 'exit 0')
  t.match(text, 'logkit: stopping', 'it drains')
  t.match(text, 'logkit: totals', 'and prints totals')
  t.ok(
    shmDir?.startsWith(`${env.LOGKIT_SHM_DIR}/`),
    `the shm source reads the rings of the given environment (${shmDir})`,
  )
})

t.test('compose: a second collector for the same app is refused with exit 1', async (t) => {
  const { work, ...env } = isolatedEnv()
  const abort = new AbortController()
  const fullEnv = { ...process.env, ...env, LOGKIT_TEST_OUT: join(work, 'full.log') }
  let second = ''
  const first = compose(join(manifests, 'good', 'full.yaml'), {
    env: fullEnv,
    out: { write: () => true } as never,
    signal: abort.signal,
    onRunning: async () => {
      const { spawnSync } = await import('node:child_process')
      const { cliBin } = await import('./helpers.js')
      const result = spawnSync(process.execPath, [cliBin, 'compose', join(manifests, 'good', 'full.yaml')], {
        env: fullEnv,
        encoding: 'utf8',
        input: '',
      })
      second = `${result.status} ${result.stderr}`
      abort.abort()
    },
  })
  t.equal(await first, 0, 'the first exits 0')
  t.match(second, /^1 /, 'the second exits 1')
  t.match(second, 'LOGKIT_ERR_SESSION_LOCKED', 'and says the app is taken')
})

t.test('a relative sink path is the manifest folder’s, wherever compose runs', async (t) => {
  const { work, ...env } = isolatedEnv()
  const folder = join(work, 'deploy')
  mkdirSync(folder)
  const manifest = join(folder, 'logkit.yaml')
  writeFileSync(
    manifest,
    [
      'version: 1',
      'app: pathapp',
      'pipelines:',
      '  main:',
      '    sources:',
      `      - use: ${join(manifests, 'good', 'ops', 'count-source.js')}`,
      '        count: 3',
      '    sinks:',
      '      - use: file',
      '        path: logs/app.log',
      '        mkdir: true',
      '',
    ].join('\n'),
  )
  // From another folder, as a process manager would start it.
  const result = await runCli(['compose', manifest], env, work)
  t.equal(result.code, 0, `compose exits 0 (${result.stderr.slice(-300)})`)
  const file = join(folder, 'logs', 'app.log')
  t.equal(readFileSync(file, 'utf8').trim().split('\n').length, 3, 'the file is next to the manifest')
  t.notOk(existsSync(join(work, 'logs')), 'and not in the folder compose ran in')
})

t.test('compose --pid-file into a folder that does not exist: a clear error, nothing starts', async (t) => {
  const { work, ...env } = isolatedEnv()
  const result = await runInProcess(['compose', counted, '--pid-file', join(work, 'no', 'such', 'x.pid')], {
    ...process.env,
    ...env,
    LOGKIT_TEST_OUT: join(work, 'x.log'),
  })
  t.equal(result.code, 1, 'exit 1')
  t.match(result.stderr, /cannot write the pid file .*x\.pid .*\[LOGKIT_ERR_CLI_PID_FILE\]/)
  t.notOk(existsSync(join(work, 'x.log')), 'no pipeline ran')
})

t.test(
  'compose --pid-file never takes over a live process’s pid file; a stale one is replaced',
  async (t) => {
    const { work, ...env } = isolatedEnv()
    const pidFile = join(work, 'c.pid')
    // This test process stands for a running collector.
    writeFileSync(pidFile, `${process.pid}\n`)
    const refused = await runCli(['compose', counted, '--pid-file', pidFile], {
      ...env,
      LOGKIT_TEST_OUT: join(work, 'x.log'),
    })
    t.equal(refused.code, 1, 'refused')
    t.match(refused.stderr, /names a running process \(pid \d+\).*\[LOGKIT_ERR_CLI_PID_FILE\]/)
    t.equal(readFileSync(pidFile, 'utf8'), `${process.pid}\n`, 'and the file is left as it was')
    // A pid that no longer runs: the file is stale.
    writeFileSync(pidFile, '999999999\n')
    const ran = await runCli(['compose', counted, '--pid-file', pidFile], {
      ...env,
      LOGKIT_TEST_OUT: join(work, 'y.log'),
    })
    t.equal(ran.code, 0, `a stale pid file is replaced and compose runs (${ran.stderr.slice(-200)})`)
    t.notOk(existsSync(pidFile), 'and removed at the end')
  },
)
