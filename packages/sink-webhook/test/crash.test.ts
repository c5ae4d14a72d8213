// A collector (the real `logkit compose`) killed with SIGKILL while a webhook
// request is in flight, then restarted: the batch was never acknowledged, so
// the shm ring hands it to the next collector, which delivers it. Nothing is
// lost; delivery is at least once.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { privateRuntimeEnv, waitFor } from '@logkit/core/testing'
import t from 'tap'
import { leaks, ndjson, startServer } from './helpers.js'

const cliBin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url))
const producer = fileURLToPath(new URL('./fixtures/producer.mjs', import.meta.url))
/** The manifest's reference to the URL in the environment. */
const HOOK_URL = '$' + '{HOOK_URL}'

function compose(
  manifest: string,
  env: Record<string, string>,
): { child: ChildProcess; stderr: () => string } {
  let stderr = ''
  const child = spawn(process.execPath, [cliBin, 'compose', manifest], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return { child, stderr: () => stderr }
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()))

t.test('SIGKILL of the collector mid-request, then a restart: the batch is delivered', async (t) => {
  if (!existsSync(cliBin)) throw new Error('build the CLI first: npx nx run-many -t build')
  const { work, LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR: shm } = privateRuntimeEnv('logkit-webhook-crash-')
  const app = `whcrash${process.pid}`
  const env = { LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR: shm, LOGKIT_TEST_APP: app }
  const children: ChildProcess[] = []
  t.teardown(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await Promise.all(children.map(exited))
    rmSync(work, { recursive: true, force: true })
    rmSync(shm, { recursive: true, force: true })
  })
  const server = await startServer(t)
  server.answers.push('stall')
  const manifest = join(work, 'logkit.yaml')
  writeFileSync(
    manifest,
    [
      'version: 1',
      `app: ${app}`,
      'pipelines:',
      '  main:',
      '    sources: [{ use: shm }]',
      '    sinks:',
      '      - use: webhook',
      `        url: ${HOOK_URL}`,
      '        preset: ndjson',
      '        timeoutMs: 60000',
      '        batch: { maxWaitMs: 0 }',
    ].join('\n'),
  )
  const withUrl = { ...env, HOOK_URL: server.url }
  const session = join(env.LOGKIT_RUNTIME_DIR, app, 'session.json')

  const first = compose(manifest, withUrl)
  children.push(first.child)
  await waitFor(() => existsSync(session), 'the first collector to start')
  const made = spawn(process.execPath, [producer, '50'], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: 'ignore',
  })
  children.push(made)
  await exited(made)
  t.equal(made.exitCode, 0, 'the producer logged 50 entries and closed')
  await server.requests(1)
  t.ok(server.received.length >= 1, 'a request is in flight, the server holds it')
  first.child.kill('SIGKILL')
  await exited(first.child)
  t.equal(first.child.signalCode, 'SIGKILL', 'the collector was killed mid-request')

  const second = compose(manifest, withUrl)
  children.push(second.child)
  const delivered = () => new Set(server.received.slice(1).flatMap((r) => ndjson(r.body).map((e) => e['i'])))
  await waitFor(() => delivered().size >= 50, 'the restarted collector to deliver every entry', 60_000)
  const seen = delivered()
  t.same(
    Array.from({ length: 50 }, (_, i) => i + 1).filter((i) => !seen.has(i)),
    [],
    'every entry of the batch in flight (and after) was delivered after the restart',
  )
  second.child.kill('SIGTERM')
  await exited(second.child)
  t.equal(second.child.exitCode, 0, 'the second collector shut down cleanly')
  t.same(leaks(first.stderr() + second.stderr(), server), [], "the collectors' output shows no secret")
})
