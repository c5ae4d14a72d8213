// The control socket in-process: compose serves it, the tail, status, flush
// and level commands ask it (same process, real unix socket).

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { compose } from '../src/compose.js'
import { request } from '../src/control.js'
import { isolatedEnv, manifests, runCli, runInProcess } from './helpers.js'

const quiet = () => new Writable({ write: (_c, _e, cb) => cb() })

t.test('status, tail --no-follow, flush and level against a running compose', async (t) => {
  const { work, ...dirs } = isolatedEnv()
  const env = { ...process.env, ...dirs, LOGKIT_TEST_OUT: join(work, 'out.log') }
  const abort = new AbortController()
  const results: Record<string, { code: number; stdout: string; stderr: string }> = {}
  const done = compose(join(manifests, 'good', 'control.yaml'), {
    env,
    out: quiet(),
    signal: abort.signal,
    onRunning: () => {
      void (async () => {
        try {
          // The counted entries are in once status says so.
          let status = { producers: [] as { source: string; entries: number; seqGaps: number }[] }
          for (let i = 0; i < 500; i++) {
            const r = await runInProcess(['status', '--app', 'controlapp', '--json'], env)
            status = JSON.parse(r.stdout)
            if (status.producers.some((p) => p.source === 'count' && p.entries === 30)) break
          }
          results['statusJson'] = { code: 0, stdout: JSON.stringify(status), stderr: '' }
          results['status'] = await runInProcess(['status', '--app', 'controlapp'], env)
          results['tail'] = await runInProcess(
            [
              'tail',
              '--app',
              'controlapp',
              '--no-follow',
              '-n',
              '5',
              '--json',
              '--source',
              'count',
              '--level',
              'info',
              '--grep',
              '^n ',
            ],
            env,
          )
          results['pretty'] = await runInProcess(
            ['tail', '--app', 'controlapp', '--no-follow', '-n', '1'],
            env,
          )
          results['flush'] = await runInProcess(['flush', '--app', 'controlapp'], env)
          results['level'] = await runInProcess(['level', '--app', 'controlapp', 'debug'], env)
          // The app from a manifest: --manifest, or logkit.yaml in the current folder.
          results['byManifest'] = await runInProcess(
            ['status', '--json', '--manifest', join(manifests, 'good', 'control.yaml')],
            env,
          )
          writeFileSync(join(work, 'logkit.yaml'), 'version: 1\napp: controlapp\npipelines: {}\n')
          results['byFolder'] = await runCli(['flush'], env, work)
          writeFileSync(join(work, 'logkit.yaml'), `version: 1\napp: $\{CONTROL_APP}\npipelines: {}\n`)
          results['byVar'] = await runCli(['flush'], { ...env, CONTROL_APP: 'controlapp' }, work)
          writeFileSync(join(work, 'logkit.yaml'), 'version: 1\npipelines: {}\n')
          results['noApp'] = await runCli(['status'], env, work)
        } finally {
          abort.abort()
        }
      })()
    },
  })
  t.equal(await done, 0, 'compose exits 0')
  const status = JSON.parse(results['statusJson']?.stdout ?? '{}') as {
    producers: { source: string; entries: number; seqGaps: number }[]
  }
  t.same(
    status.producers.map((p) => [p.source, p.entries, p.seqGaps]),
    [['count', 30, 0]],
    'status --json: one producer, 30 entries, no seq gaps',
  )
  t.match(results['status']?.stdout, 'pipeline main (running): 30 in', 'status: the pipeline line')
  t.match(results['status']?.stdout, 'sink file: 30 written', 'status: the sink line')
  t.same(
    (results['tail']?.stdout ?? '')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ['n 26', 'n 27', 'n 28', 'n 29', 'n 30'],
    'tail -n 5 --no-follow: the last five entries, filtered',
  )
  t.equal(results['pretty']?.stdout.trim().split('\n').length, 1, 'tail -n 1: one pretty line')
  t.same([results['flush']?.code, results['flush']?.stdout], [0, 'flushed\n'], 'flush: exit 0 once durable')
  t.same(
    [results['level']?.code, results['level']?.stdout],
    [0, 'level debug: 0 producer(s) told\n'],
    'level: exit 0, and no shm producer in this app to tell (the mechanism is tested in transport-shm)',
  )
  t.same(
    [
      results['byManifest']?.code,
      (JSON.parse(results['byManifest']?.stdout ?? '{}') as { app?: string }).app,
    ],
    [0, 'controlapp'],
    'status --manifest FILE asks the collector of its app',
  )
  t.same(
    [results['byFolder']?.code, results['byFolder']?.stdout],
    [0, 'flushed\n'],
    'flush with logkit.yaml here',
  )
  t.same(
    [results['byVar']?.code, results['byVar']?.stdout],
    [0, 'flushed\n'],
    'app: $VAR in braces, read as compose reads it',
  )
  t.equal(results['noApp']?.code, 2, 'a logkit.yaml without app: a usage error')
  t.match(results['noApp']?.stderr, 'logkit.yaml names no app', 'which says so')
  t.match(
    results['level']?.stderr,
    /no running shm producer in app controlapp: levels reach logkit loggers through their shm rings; fifo producers/,
    'level: with none told, it says why',
  )
})

t.test('control bounds: a capped producer table, and --grep guarded against slow patterns', async (t) => {
  const { work, ...dirs } = isolatedEnv()
  const env = { ...process.env, ...dirs }
  const file = join(work, 'bounds.yaml')
  const slow = `${'a'.repeat(40)}b`
  writeFileSync(
    file,
    [
      'version: 1',
      'app: boundsapp',
      'pipelines:',
      '  main:',
      '    sources:',
      `      - use: ${join(manifests, 'good', 'ops', 'fixed-source.js')}`,
      `        messages: [${JSON.stringify(slow)}, "timeout at db", "refused by peer"]`,
      '        pids: 50',
      '    sinks:',
      '      - use: file',
      `        path: ${join(work, 'out.log')}`,
      '',
    ].join('\n'),
  )
  const abort = new AbortController()
  const results: Record<string, { code: number; stdout: string; stderr: string }> = {}
  let serverRefusal: string | undefined
  const done = compose(file, {
    env,
    out: quiet(),
    signal: abort.signal,
    controlLimits: { maxProducers: 10 },
    onRunning: () => {
      void (async () => {
        try {
          const tail = (grep: string) =>
            runInProcess(['tail', '--app', 'boundsapp', '--no-follow', '--json', '--grep', grep], env)
          results['status'] = await runInProcess(['status', '--app', 'boundsapp', '--json'], env)
          // Exponential under a backtracking engine: 2^40 steps on this message.
          results['slow'] = await tail('^(a+)+$')
          results['alternation'] = await tail('timeout|refused')
          results['backref'] = await tail('(a)\\1')
          results['long'] = await tail('x'.repeat(300))
          // The collector checks a pattern too, whoever sends it (the CLI refuses it before asking).
          serverRefusal = await request(
            'boundsapp',
            env,
            { op: 'tail', history: 1, follow: false, grep: '(a)\\1' },
            () => {},
          ).then(
            () => undefined,
            (err: { code?: string }) => err.code,
          )
        } finally {
          abort.abort()
        }
      })()
    },
  })
  t.equal(await done, 0, 'compose exits 0')
  const status = JSON.parse(results['status']?.stdout ?? '{}') as {
    producers?: unknown[]
    producersEvicted?: number
  }
  t.same(
    [status.producers?.length, status.producersEvicted],
    [10, 41],
    'the table keeps 10 producers (the cap) and counts the 41 evicted (50 pids and the fixed source)',
  )
  const msgs = (r: { stdout: string } | undefined) =>
    (r?.stdout ?? '')
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { msg: string }).msg)
  t.same(
    [results['slow']?.code, msgs(results['slow'])],
    [0, []],
    'a catastrophic pattern runs in linear time and matches nothing here',
  )
  t.same(
    msgs(results['alternation']),
    ['timeout at db', 'refused by peer'],
    'ordinary regular expressions still work',
  )
  for (const name of ['backref', 'long']) {
    t.same(
      [results[name]?.code, /\[(LOGKIT_ERR_[A-Z_]+)\]/.exec(results[name]?.stderr ?? '')?.[1]],
      [2, 'LOGKIT_ERR_CLI_GREP_INVALID'],
      `--grep ${name}: a usage error (exit 2), with its code`,
    )
  }
  t.equal(
    serverRefusal,
    'LOGKIT_ERR_CLI_GREP_INVALID',
    'the collector refuses such a pattern sent to it directly',
  )
})
