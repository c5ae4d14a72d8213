import { spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { pipelinePlan } from '../src/pipeline.js'
import { cliBin, fixtures, runIn, sleep } from './helpers.js'

function lines(file: string): Record<string, unknown>[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : []
}

t.test('inline: filter (warn) + redact + file sink, in pino worker, no collector', async (t) => {
  const dir = tempDir('logkit-pino-pipe-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'out.log')
  const r = await runIn(dir, 'pipeline.mjs', ['inline', out])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /closed/)
  const got = lines(out).filter((e) => e['name'] !== 'logkit')
  t.equal(got.length, 300, 'the warn entries only')
  t.ok(
    got.every((e) => e['level'] === 40 && e['password'] === '[Redacted]'),
    'passwords censored',
  )
  t.match(got[0], { app: 'inline', svc: 'web', msg: 'warned', user: { id: 2, token: '[Redacted]' }, i: 2 })
  t.same(
    got.map((e) => e['i']),
    Array.from({ length: 300 }, (_, k) => 2 * (k + 1)),
    'in order, none twice',
  )
})

t.test('a manifest file and a pipeline in it', async (t) => {
  const dir = tempDir('logkit-pino-pipe-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'web.log')
  const manifest = join(dir, 'logkit.yaml')
  writeFileSync(
    manifest,
    `version: 1\napp: shop\npipelines:\n  web:\n    sources:\n      - use: pino\n    operators:\n      - use: redact\n        paths: [password]\n    sinks:\n      - use: file\n        path: ${out}\n`,
  )
  const r = await runIn(dir, 'pipeline.mjs', ['manifest', manifest])
  t.equal(r.code, 0, r.stderr)
  const got = lines(out).filter((e) => e['name'] !== 'logkit')
  t.equal(got.length, 600)
  t.match(got[599], { app: 'shop', level: 40, i: 600, password: '[Redacted]', user: { token: 'tok' } })
})

t.test("a broken inline pipeline fails with the manifest's errors, in the logger's thread", async (t) => {
  const r = await runIn(tmpdir(), 'pipeline.mjs', ['broken'])
  t.equal(r.code, 3, r.stderr)
  t.match(r.stdout, /^error: invalid logkit pipeline:/)
  t.match(
    r.stdout,
    /pino\.transport options:\d+:\d+ operator "filter": option "level".*\[LOGKIT_ERR_MANIFEST_OPTION_INVALID\].*"loud"/,
  )
  t.match(
    r.stdout,
    /pino\.transport options:\d+:\d+ sink "file": missing option "path".*\[LOGKIT_ERR_MANIFEST_OPTION_INVALID\]/,
  )
})

t.test('manifest problems the target checks itself', async (t) => {
  const dir = tempDir('logkit-pino-pipe-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const manifest = join(dir, 'logkit.yaml')
  writeFileSync(
    manifest,
    'version: 1\napp: shop\npipelines:\n  main:\n    sources:\n      - use: shm\n    sinks:\n      - use: console\n',
  )
  await t.rejects(pipelinePlan({ manifest, pipeline: 'web' }), {
    code: 'LOGKIT_ERR_MANIFEST_INVALID',
    message: /no pipeline named "web" \(it has main\)/,
  })
  await t.rejects(pipelinePlan({ manifest, pipeline: 'main' }), {
    message: /reads shm: under pino.transport its one source is pino's lines/,
  })
  await t.rejects(pipelinePlan({ manifest: join(dir, 'missing.yaml') }), { code: 'LOGKIT_ERR_MANIFEST_READ' })
})

t.test('use: pino under logkit compose reads pino lines from standard input', async (t) => {
  const dir = tempDir('logkit-pino-stdin-')
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = join(dir, 'out.log')
  const manifest = join(dir, 'logkit.yaml')
  writeFileSync(
    manifest,
    `version: 1\napp: piped\npipelines:\n  main:\n    sources:\n      - use: pino\n        source: web\n    sinks:\n      - use: file\n        path: ${out}\n`,
  )
  const env = { ...process.env, NODE_OPTIONS: '', LOGKIT_RUNTIME_DIR: join(dir, 'run') }
  const app = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import pino from 'pino'; const l = pino({ name: 'api' }); for (let i = 1; i <= 500; i++) l.info({ i }, 'piped'); l.info('last')",
    ],
    { cwd: fixtures, env, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const compose = spawn(process.execPath, [cliBin, 'compose', manifest], {
    cwd: dir,
    env,
    stdio: ['pipe', 'ignore', 'pipe'],
  })
  // Registered now: at the end of its standard input compose may exit before it is told to.
  const exited = new Promise((r) => compose.once('exit', r))
  app.stdout?.pipe(compose.stdin as NodeJS.WritableStream)
  let stderr = ''
  compose.stderr?.on('data', (d) => (stderr += d))
  const deadline = Date.now() + 20_000
  while (lines(out).filter((e) => e['name'] === 'api').length < 501 && Date.now() < deadline) await sleep(100)
  compose.kill('SIGTERM')
  await exited
  const got = lines(out).filter((e) => e['name'] === 'api')
  t.equal(got.length, 501, stderr)
  t.match(got[0], { app: 'piped', level: 30, msg: 'piped', i: 1, pid: app.pid })
})
