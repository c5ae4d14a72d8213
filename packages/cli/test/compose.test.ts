// End to end with real processes: the built `logkit compose` and producer
// processes logging through shared memory and named pipes. Asserts on what
// arrived in the output file, entry by entry.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { cliBin, isolatedEnv, producerScript, readJsonLines, runCli, startNode, waitFor } from './helpers.js'

function manifest(dir: string, out: string, sources: string[]): string {
  const file = join(dir, 'manifest.yaml')
  writeFileSync(
    file,
    [
      'version: 1',
      'app: testapp',
      'pipelines:',
      '  main:',
      '    sources:',
      ...sources.map((s) => `      - use: ${s}`),
      '    sinks:',
      '      - use: file',
      `        path: ${out}`,
      '        format: json',
      '',
    ].join('\n'),
  )
  return file
}

interface Line {
  name?: string
  i?: number
  msg?: string
  code?: string
}

const readLines = (file: string) => readJsonLines<Line>(file)

/** i values logged by `source`, in file order. */
const indexesOf = (lines: readonly Line[], source: string) =>
  lines.filter((l) => l.name === source && typeof l.i === 'number').map((l) => l.i as number)

const range = (n: number) => Array.from({ length: n }, (_, k) => k + 1)

t.test(
  'compose + 3 producers (2 shm, 1 fifo) + tail: every entry in the file and in tail, in order per producer',
  async (t) => {
    const isolated = isolatedEnv()
    const { work, ...env } = isolated
    const out = join(work, 'out.log')
    const file = manifest(work, out, ['shm', 'fifo'])
    const compose = startNode([cliBin, 'compose', file], env)
    t.teardown(() => compose.process.kill('SIGKILL'))
    await waitFor(
      () => existsSync(join(env.LOGKIT_RUNTIME_DIR, 'testapp', 'session.json')),
      'the session file',
    )

    await waitFor(() => {
      const session = readFileSync(join(env.LOGKIT_RUNTIME_DIR, 'testapp', 'session.json'), 'utf8')
      return session.includes('"control"')
    }, 'the control socket in the session')
    const tail = startNode([cliBin, 'tail', '--app', 'testapp', '--json', '-n', '10000'], env)
    t.teardown(() => tail.process.kill('SIGKILL'))
    const tailed = () =>
      tail
        .stdout()
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l) as Line)
    // Once tail shows one entry, it follows: what comes after reaches it live
    // (compose keeps a history of only 1,000 for a tail that connects late).
    const ready = await startNode([producerScript, 'shm', 'ready', '1'], env).exit
    t.equal(ready.code, 0, 'a first producer logs one entry')
    await waitFor(() => indexesOf(tailed(), 'ready').length === 1, 'tail following')

    const N = 400
    const producers = [
      startNode([producerScript, 'shm', 'alpha', String(N)], env),
      startNode([producerScript, 'shm', 'beta', String(N)], env),
      startNode([producerScript, 'fifo', 'gamma', String(N)], env),
    ]
    for (const p of producers) {
      const exit = await p.exit
      t.equal(exit.code, 0, `producer exits 0 (${exit.stderr.trim()})`)
      t.match(exit.stdout, `done ${N} 0`, 'the producer wrote every entry and dropped none')
    }
    await waitFor(
      () => ['alpha', 'beta', 'gamma'].every((s) => indexesOf(readLines(out), s).length >= N),
      'every entry in the file',
    )
    await waitFor(
      () => ['alpha', 'beta', 'gamma'].every((s) => indexesOf(tailed(), s).length >= N),
      'every entry in tail',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: tail printed ${tailed().length} lines; stderr: ${tail.stderr()}`)
    })
    for (const source of ['alpha', 'beta', 'gamma']) {
      t.same(
        indexesOf(tailed(), source),
        range(N),
        `tail shows ${source}: entries 1..${N}, once each, in order`,
      )
    }
    tail.process.kill('SIGINT')
    t.equal((await tail.exit).code, 0, 'tail exits 0 on SIGINT')

    const status = await runCli(['status', '--app', 'testapp', '--json'], env)
    t.equal(status.code, 0, 'status exits 0')
    const producersSeen = (
      JSON.parse(status.stdout) as { producers: { source: string; entries: number; seqGaps: number }[] }
    ).producers
    for (const source of ['alpha', 'beta', 'gamma']) {
      const p = producersSeen.find((x) => x.source === source)
      t.same(
        { entries: p?.entries, seqGaps: p?.seqGaps },
        { entries: N, seqGaps: 0 },
        `status: ${source} sent ${N}, no seq gaps`,
      )
    }
    const flush = await runCli(['flush', '--app', 'testapp'], env)
    t.equal(flush.code, 0, 'flush exits 0 once everything is durable')

    compose.process.kill('SIGTERM')
    const exit = await compose.exit
    t.equal(exit.code, 0, 'compose exits 0 after SIGTERM')
    const after = await runCli(['status', '--app', 'testapp'], env)
    t.equal(after.code, 1, 'status without a running collector exits 1')
    t.match(after.stderr, 'LOGKIT_ERR_CLI_NO_COLLECTOR', 'and says there is no collector')
    t.match(exit.stderr, 'main: shm, fifo → file', 'one summary line for the pipeline')
    const totals =
      /main: (\d+) in; (?:(\d+) diagnostic entries; )?(\d+) out; written: file \d+; dropped: none/.exec(
        exit.stderr,
      )
    t.ok(totals, `totals, with nothing dropped and nothing filtered (${exit.stderr.slice(-300)})`)
    const [, into, made, passed] = (totals ?? []).map((n) => Number(n ?? 0))
    t.equal(
      (into as number) + (made as number),
      passed,
      'every entry in, and every diagnostic entry made, went out',
    )
    const lines = readLines(out)
    for (const source of ['alpha', 'beta', 'gamma']) {
      t.same(indexesOf(lines, source), range(N), `${source}: entries 1..${N}, once each, in order`)
    }
    t.same(
      listTreeSafe(env.LOGKIT_RUNTIME_DIR, 'testapp', 'session.json'),
      false,
      'the session file is removed on exit',
    )
  },
)

function listTreeSafe(...parts: string[]): boolean {
  return existsSync(join(...parts))
}

t.test(
  'SIGTERM during load: exit 0, and nothing acknowledged is lost (a second collector gets the rest)',
  async (t) => {
    const isolated = isolatedEnv()
    const { work, ...env } = isolated
    const out1 = join(work, 'first.log')
    const out2 = join(work, 'second.log')
    const N = 20_000
    const first = startNode([cliBin, 'compose', manifest(work, out1, ['shm'])], env)
    t.teardown(() => first.process.kill('SIGKILL'))
    await waitFor(
      () => existsSync(join(env.LOGKIT_RUNTIME_DIR, 'testapp', 'session.json')),
      'the session file',
    )
    const producers = ['one', 'two'].map((s) => startNode([producerScript, 'shm', s, String(N)], env))
    // Stop in the middle of the load.
    await waitFor(() => readLines(out1).length >= 200, 'the first entries in the file')
    first.process.kill('SIGTERM')
    const exit = await first.exit
    t.equal(exit.code, 0, 'the first collector exits 0 after SIGTERM under load')
    t.match(exit.stderr, 'logkit: totals', 'and prints its totals')

    for (const p of producers) t.equal((await p.exit).code, 0, 'the producer finishes into its ring')
    const second = startNode([cliBin, 'compose', manifest(work, out2, ['shm'])], env)
    t.teardown(() => second.process.kill('SIGKILL'))
    await waitFor(
      () =>
        ['one', 'two'].every(
          (s) => new Set([...indexesOf(readLines(out1), s), ...indexesOf(readLines(out2), s)]).size >= N,
        ),
      'the rest of the entries, from the second collector',
      60_000,
    )
    second.process.kill('SIGTERM')
    t.equal((await second.exit).code, 0, 'the second collector exits 0')
    const a = readLines(out1)
    const b = readLines(out2)
    for (const s of ['one', 'two']) {
      const both = [...indexesOf(a, s), ...indexesOf(b, s)]
      t.same(
        [...new Set(both)].sort((x, y) => x - y),
        range(N),
        `${s}: every entry 1..${N} arrived`,
      )
      t.equal(both.length, N, `${s}: none twice (what the first collector wrote was released, not replayed)`)
    }
  },
)
