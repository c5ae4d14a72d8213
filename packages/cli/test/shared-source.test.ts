// Two pipelines of one manifest that both read the app's shm rings share one
// reader: each gets every entry, nothing is reported corrupt or missing, and
// the totals say nothing was dropped (with two readers, each moved the other's
// HEAD: one pipeline got 2,435 of 50,000 entries).

import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { cliBin, isolatedEnv, producerScript, readJsonLines, runCli, startNode, waitFor } from './helpers.js'

interface Line {
  name?: string
  i?: number
  code?: string
  level?: number
}

const readLines = (file: string) => readJsonLines<Line>(file)

t.test('pipelines "all" and "audit" both use shm: each gets every entry of every producer', async (t) => {
  const { work, ...env } = isolatedEnv()
  const all = join(work, 'all.log')
  const audit = join(work, 'audit.log')
  const file = join(work, 'manifest.yaml')
  writeFileSync(
    file,
    [
      'version: 1',
      'app: testapp',
      'pipelines:',
      '  all:',
      '    sources:',
      '      - use: shm',
      '    sinks:',
      '      - use: file',
      `        path: ${all}`,
      '  audit:',
      '    sources:',
      '      - use: shm',
      '    sinks:',
      '      - use: file',
      `        path: ${audit}`,
      '',
    ].join('\n'),
  )
  const compose = startNode([cliBin, 'compose', file], env)
  t.teardown(() => compose.process.kill('SIGKILL'))
  await waitFor(() => existsSync(join(env.LOGKIT_RUNTIME_DIR, 'testapp', 'session.json')), 'the session')
  const N = 10_000
  const producers = ['one', 'two'].map((s) => startNode([producerScript, 'shm', s, String(N)], env))
  for (const p of producers) {
    const exit = await p.exit
    t.equal(exit.code, 0, `the producer exits 0 (${exit.stderr.trim()})`)
    t.match(exit.stdout, `done ${N} 0`, 'and dropped nothing')
  }
  const complete = (f: string) =>
    ['one', 'two'].every(
      (s) => readLines(f).filter((l) => l.name === s && typeof l.i === 'number').length >= N,
    )
  await waitFor(() => complete(all) && complete(audit), 'every entry in both files', 60_000)
  const status = await runCli(['status', '--app', 'testapp', '--json'], env)
  const seenBy = (
    JSON.parse(status.stdout) as { producers: { source: string; entries: number; seqGaps: number }[] }
  ).producers
  for (const s of ['one', 'two']) {
    const p = seenBy.find((x) => x.source === s)
    t.same(
      { entries: p?.entries, seqGaps: p?.seqGaps },
      { entries: N, seqGaps: 0 },
      `status counts ${s}'s ${N} entries once`,
    )
  }
  const tail = await runCli(['tail', '--app', 'testapp', '--json', '--no-follow', '-n', '1000'], env)
  const tailed = tail.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => typeof l.i === 'number')
    .map((l) => `${l.name} ${l.i}`)
  t.ok(tailed.length > 0, `tail shows the recent entries (${tailed.length})`)
  t.equal(new Set(tailed).size, tailed.length, 'each once, although both pipelines wrote it')
  compose.process.kill('SIGTERM')
  const exit = await compose.exit
  t.equal(exit.code, 0, 'compose exits 0')
  for (const [name, path] of [
    ['all', all],
    ['audit', audit],
  ] as const) {
    const lines = readLines(path)
    for (const s of ['one', 'two']) {
      const got = lines.filter((l) => l.name === s && typeof l.i === 'number').map((l) => l.i as number)
      t.same(
        got,
        Array.from({ length: N }, (_, k) => k + 1),
        `${name}: ${s} 1..${N}, once each, in order`,
      )
    }
    const problems = lines.filter((l) => l.code === 'seq_gap' || l.code === 'frame_corrupt')
    t.same(problems, [], `${name}: no seq gap and no corrupt frame reported`)
    t.match(
      exit.stderr,
      new RegExp(`${name}: \\d+ in; (\\d+ diagnostic entries; )?\\d+ out; written: file \\d+; dropped: none`),
      `${name}: nothing dropped`,
    )
  }
})
