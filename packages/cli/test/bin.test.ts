// The `logkit` command as npm links it in this repository (node_modules/.bin),
// run through its own shebang and mode: what `npx logkit` runs after the
// README's `npm ci`. npx is told not to install anything, so a missing link
// fails here instead of fetching an unrelated package of that name.

import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { privateRuntimeEnv, waitFor } from '@logkit/core/testing'
import t from 'tap'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const bin = fileURLToPath(new URL('../bin/logkit.js', import.meta.url))

t.test('the committed bin is executable and npx runs it without installing', (t) => {
  t.ok((statSync(bin).mode & 0o111) !== 0, 'bin/logkit.js has the execute bit')
  const result = spawnSync('npx', ['--no', '--', 'logkit', '--help'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  t.equal(result.status, 0, `exit 0 (${result.stderr})`)
  t.match(result.stdout, /^Usage: logkit /, 'the usage of this CLI')
  t.end()
})

t.test(
  'compose under npx --pid-file: the pid in the file is the collector, and SIGTERM to it drains',
  async (t) => {
    const { work, ...env } = privateRuntimeEnv('logkit-cli-pid-')
    const manifest = join(work, 'logkit.yaml')
    writeFileSync(
      manifest,
      [
        'version: 1',
        'app: pidapp',
        'pipelines:',
        '  main:',
        '    sources: [{ use: shm }]',
        `    sinks: [{ use: file, path: ${join(work, 'out.log')} }]`,
        '',
      ].join('\n'),
    )
    const pidFile = join(work, 'compose.pid')
    const npx = spawn('npx', ['--no', '--', 'logkit', 'compose', manifest, '--pid-file', pidFile], {
      cwd: root,
      env: { ...process.env, ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    npx.stderr?.on('data', (d) => {
      stderr += d
    })
    const exited = new Promise<number | null>((resolve) => npx.once('exit', (code) => resolve(code)))
    t.teardown(() => {
      if (npx.exitCode === null) npx.kill('SIGKILL')
    })
    const pid = await waitFor(
      () => {
        const text = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : ''
        return text === '' ? undefined : Number(text)
      },
      'the pid file',
      60_000,
    )
    t.not(pid, npx.pid, 'the pid in the file is not npx’s')
    t.equal(statSync(pidFile).mode & 0o777, 0o600, 'the pid file is private')
    await waitFor(() => stderr.includes('main: shm → file'), 'compose running', 60_000)
    process.kill(pid, 'SIGTERM')
    t.equal(await exited, 0, `npx exits 0 once the collector has (${stderr.slice(-300)})`)
    t.match(
      stderr,
      'logkit: stopping: draining sources, flushing sinks',
      'the collector drained on that SIGTERM',
    )
    t.notOk(existsSync(pidFile), 'and removed its pid file')
  },
)

t.test('the README’s manifest, as written there, passes npx logkit validate', (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const block = readme.split('```yaml\n')[1]
  t.ok(block?.includes('pipelines:'), 'the README has a manifest')
  const { work } = privateRuntimeEnv('logkit-cli-readme-')
  const file = join(work, 'manifest.yaml')
  writeFileSync(file, (block ?? '').slice(0, (block ?? '').indexOf('```')))
  const result = spawnSync('npx', ['--no', '--', 'logkit', 'validate', file], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  t.equal(result.status, 0, `exit 0 (${result.stderr})`)
  t.match(result.stdout, 'ok (app demoapp)', 'valid, for the app the README names')
  t.end()
})
