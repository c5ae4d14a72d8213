// Real collector processes for the end-to-end tests: `logkit compose` (the
// CLI's bin) with a manifest written into the test's folder, producers from
// fixtures/producer.mjs, and `logkit status`; every child is killed in
// teardown, and the folders are the test's own (privateRuntimeEnv, tempDir).

import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { privateRuntimeEnv } from '@logkit/core/testing'
import type { Test } from 'tap'

export const cliBin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url))
const producerFile = fileURLToPath(new URL('./fixtures/producer.mjs', import.meta.url))
export const stallSink = fileURLToPath(new URL('./fixtures/stall-sink.mjs', import.meta.url))

export const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()))

export interface Collector {
  readonly child: ChildProcess
  stderr(): string
  stdout(): string
}

/** A place for one test's collectors and producers, cleaned up in teardown. */
export class Scene {
  readonly env: Record<string, string>
  readonly work: string
  readonly children: ChildProcess[] = []

  constructor(t: Test, prefix: string) {
    if (!existsSync(cliBin)) throw new Error('build the CLI first: npx nx run-many -t build')
    const { work, LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR } = privateRuntimeEnv(prefix)
    this.work = work
    this.env = { LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR }
    t.teardown(async () => {
      for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
      await Promise.all(this.children.map(exited))
    })
  }

  /** Writes `lines` as a manifest named `name` in the work folder. */
  manifest(name: string, lines: readonly string[]): string {
    const file = join(this.work, name)
    writeFileSync(file, `${lines.join('\n')}\n`)
    return file
  }

  /** `logkit compose FILE`, with the scene's environment and `env`. */
  compose(file: string, env: Record<string, string> = {}): Collector {
    let stderr = ''
    let stdout = ''
    const child = spawn(process.execPath, [cliBin, 'compose', file], {
      env: { ...process.env, NODE_OPTIONS: '', ...this.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    this.children.push(child)
    return { child, stderr: () => stderr, stdout: () => stdout }
  }

  /** A producer logging `count` entries into app's rings; resolves with its exit and what it printed. */
  produce(
    app: string,
    source: string,
    count: number,
    pauseMs = 0,
  ): { child: ChildProcess; done: Promise<string> } {
    let out = ''
    const child = spawn(process.execPath, [producerFile, app, source, String(count), String(pauseMs)], {
      env: { ...process.env, NODE_OPTIONS: '', ...this.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d))
    this.children.push(child)
    return { child, done: exited(child).then(() => out) }
  }

  /** `logkit status --app APP` as text. */
  status(app: string): Promise<string> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [cliBin, 'status', '--app', app],
        { env: { ...process.env, NODE_OPTIONS: '', ...this.env } },
        (_err, stdout, stderr) => resolve(stdout + stderr),
      )
    })
  }

  /** Resolves once the collector of `app` runs (its session file is there); rejects with its output when it exits first. */
  async started(app: string, collector: Collector, timeoutMs = 30_000): Promise<void> {
    const file = this.session(app)
    const deadline = Date.now() + timeoutMs
    while (!existsSync(file)) {
      if (collector.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `collector of ${app} did not start (exit ${collector.child.exitCode}): ${collector.stderr()}`,
        )
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** The session file a collector of `app` writes once it runs. */
  session(app: string): string {
    return join(this.env['LOGKIT_RUNTIME_DIR'] as string, app, 'session.json')
  }
}

/** The JSON lines of a file (none when it does not exist yet); a partial last line is left out. */
export function jsonLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return []
  const text = readFileSync(file, 'utf8')
  const lines = text.split('\n')
  lines.pop()
  return lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** Lines in a file (0 when it does not exist yet), read at most every 250 ms: a cheap condition for waitFor. */
export function lineCounter(file: string): () => number {
  let last = 0
  let count = 0
  return () => {
    const now = Date.now()
    if (now - last < 250) return count
    last = now
    if (!existsSync(file)) return 0
    const buf = readFileSync(file)
    count = 0
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) count++
    return count
  }
}

/** `$` + `{NAME}`: a manifest's reference to an environment variable. */
export const envRef = (name: string): string => `$` + `{${name}}`
