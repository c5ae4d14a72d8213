// `logkit emit`: stdin lines (NDJSON and text) become entries of one producer,
// through fifo and shm, into a real `logkit compose`.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import t from 'tap'
import { emit } from '../src/emit.js'
import { cliBin, isolatedEnv, runCli, startNode, waitFor } from './helpers.js'

interface Line {
  name?: string
  msg?: string
  level?: number
  n?: number
}

for (const via of ['fifo', 'shm'] as const) {
  t.test(`emit --via ${via}: NDJSON keeps level, msg and fields; text lines become messages`, async (t) => {
    const { work, ...env } = isolatedEnv()
    const out = join(work, 'out.log')
    const manifest = join(work, 'm.yaml')
    writeFileSync(
      manifest,
      `version: 1\napp: emitapp\npipelines:\n  main:\n    sources: [{ use: ${via} }]\n    sinks: [{ use: file, path: ${out} }]\n`,
    )
    const compose = startNode([cliBin, 'compose', manifest], env)
    t.teardown(() => compose.process.kill('SIGKILL'))
    await waitFor(() => existsSync(join(env.LOGKIT_RUNTIME_DIR, 'emitapp', 'session.json')), 'the session')

    // In-process, with this test's environment for the transport.
    const saved = { ...process.env }
    Object.assign(process.env, env)
    t.teardown(() => {
      for (const key of Object.keys(env)) delete process.env[key]
      Object.assign(process.env, saved)
    })
    const input = Readable.from([
      '{"level":"warn","msg":"disk low","n":1}\n',
      'plain text line\n',
      '\n',
      '{"level":50,"message":"boom","n":3}\n',
      '{not json\n',
    ])
    const result = await emit({ app: 'emitapp', source: 'script', via, input })
    t.same(result, { written: 4, dropped: 0 }, 'four entries written, none dropped')

    const read = (): Line[] =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .split('\n')
            .slice(0, -1)
            .map((l) => JSON.parse(l) as Line)
            .filter((l) => l.name === 'script')
        : []
    await waitFor(() => read().length >= 4, 'the entries in the file')
    t.same(
      read().map((l) => [l.level, l.msg, l.n]),
      [
        [40, 'disk low', 1],
        [30, 'plain text line', undefined],
        [50, 'boom', 3],
        [30, '{not json', undefined],
      ],
      'level, message and fields of each line, in order',
    )
    compose.process.kill('SIGTERM')
    t.equal((await compose.exit).code, 0, 'compose exits 0')
  })
}

t.test('emit through the binary: --via must be shm or fifo (exit 2)', async (t) => {
  const exit = await runCli(['emit', '--app', 'x', '--via', 'carrier-pigeon'])
  t.equal(exit.code, 2, 'exit 2')
})

t.test(
  'emit over fifo with no collector: waits its bounded time, then exits 1 saying how many lines were not delivered',
  async (t) => {
    const { work: _work, ...env } = isolatedEnv()
    const child = startNode([cliBin, 'emit', '--app', 'nobody', '--source', 'cron'], env)
    child.process.stdin?.end('first line\n{"level":"warn","msg":"second"}\nthird\n')
    const exit = await child.exit
    t.equal(exit.code, 1, 'a non-zero exit: the lines were not delivered')
    t.match(exit.stderr, /\[LOGKIT_ERR_CLI_EMIT\]/, 'the error carries its code')
    t.match(exit.stderr, /\b3 of 3 lines were not delivered/, 'it says how many lines were lost')
    t.match(exit.stderr, /logkit compose/, 'and what to do: start the collector')
  },
)
