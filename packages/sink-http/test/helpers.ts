// Shared by the tests: a real `logkit compose` and real shm producers as child
// processes (killed in teardown), a free port, and an SSE reader over a plain
// http request that records every event as it arrives.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { get, type IncomingMessage } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { privateRuntimeEnv, waitFor } from '@logkit/core/testing'
import type { Test } from 'tap'

export const cliBin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url))
const producerFile = fileURLToPath(new URL('./fixtures/producer.mjs', import.meta.url))

export const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()))

/** A port nobody listens on now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

export interface Child {
  readonly child: ChildProcess
  out(): string
  err(): string
}

/** An app of the test's own: runtime and shm folders, and children killed (and folders removed) in teardown. */
export function testApp(t: Test, name: string) {
  if (!existsSync(cliBin)) throw new Error('build the CLI first: npx nx run-many -t build')
  const { work, LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR } = privateRuntimeEnv(`logkit-http-${name}-`)
  const app = `${name}${process.pid}`
  const env = { LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR, LOGKIT_TEST_APP: app }
  const children: ChildProcess[] = []
  t.teardown(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await Promise.all(children.map(exited))
    rmSync(work, { recursive: true, force: true })
    rmSync(LOGKIT_SHM_DIR, { recursive: true, force: true })
  })
  const run = (args: string[]): Child => {
    let out = ''
    let err = ''
    const child = spawn(process.execPath, args, {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d))
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d))
    children.push(child)
    return { child, out: () => out, err: () => err }
  }
  return {
    app,
    work,
    env,
    /** Writes the manifest (lines after `app:`) and starts `logkit compose` on it; resolves once its session is up. */
    async compose(pipelines: string[]): Promise<Child & { manifest: string }> {
      const manifest = join(work, 'logkit.yaml')
      writeFileSync(manifest, ['version: 1', `app: ${app}`, 'pipelines:', ...pipelines, ''].join('\n'))
      const c = run([cliBin, 'compose', manifest])
      await waitFor(
        () => c.err().includes('logkit: app ') || c.child.exitCode !== null,
        'compose to start',
        60_000,
      )
      if (c.child.exitCode !== null) throw new Error(`compose exited: ${c.err()}`)
      return { ...c, manifest }
    },
    cli: (args: string[]) => run([cliBin, ...args]),
    /** Starts a producer (see fixtures/producer.mjs) and waits until it runs. */
    async producer(source: string, count: number, intervalMs = 0, pad = 0): Promise<Child> {
      const c = run([producerFile, source, String(count), String(intervalMs), String(pad)])
      await waitFor(
        () => c.out().startsWith('ready') || c.child.exitCode !== null,
        `producer ${source} to start`,
      )
      return c
    },
  }
}

export interface SseEvent {
  readonly event: string
  readonly id?: string
  readonly data: string
}

/** An open /events stream; `events` grows as they arrive. */
export interface SseStream {
  readonly status: number
  readonly events: SseEvent[]
  readonly body: () => string
  entries(): { id: number; msg: string; level: number; source: string }[]
  close(): void
}

export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers }, (res: IncomingMessage) => {
      const events: SseEvent[] = []
      let text = ''
      let pending = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
        pending += chunk
        let end = pending.indexOf('\n\n')
        while (end !== -1) {
          const block = pending.slice(0, end)
          pending = pending.slice(end + 2)
          end = pending.indexOf('\n\n')
          let event = 'message'
          let id: string | undefined
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('id: ')) id = line.slice(4)
            else if (line.startsWith('data: ')) data.push(line.slice(6))
          }
          if (data.length > 0)
            events.push({ event, ...(id === undefined ? {} : { id }), data: data.join('\n') })
        }
      })
      res.on('error', () => {})
      resolve({
        status: res.statusCode ?? 0,
        events,
        body: () => text,
        entries: () => events.filter((e) => e.event === 'entry').map((e) => JSON.parse(e.data)),
        close: () => req.destroy(),
      })
    })
    req.on('error', reject)
  })
}

/** GET as JSON. */
export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers })
  if (!res.ok) throw new Error(`${url}: ${res.status}`)
  return (await res.json()) as Record<string, unknown>
}

/** Resolves once `url` answers 200 (a bound on waiting, not a performance check). */
export async function waitForUrl(url: string, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
