// A real collector for the tests: `logkit compose` (the CLI's bin) in a child
// process, shm and fifo sources into a file sink, in a fresh runtime
// directory and shared-memory directory of its own.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runtimePaths } from '@logkit/core/producer'
import { privateRuntimeEnv } from '@logkit/core/testing'

export const cliBin = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url))
export const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))

export interface Collector {
  readonly app: string
  readonly env: Record<string, string>
  readonly log: string
  readonly dir: string
  /** The file's lines as objects. */
  entries(): Record<string, unknown>[]
  /** Waits (bounded) until `predicate` holds for the file's entries. */
  waitFor(
    predicate: (entries: Record<string, unknown>[]) => boolean,
    ms?: number,
  ): Promise<Record<string, unknown>[]>
  stop(): Promise<void>
}

export async function startCollector(app = 'pinoapp', extraSources = ''): Promise<Collector> {
  const { work: dir, LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR: shm } = privateRuntimeEnv('logkit-pino-')
  const env = { LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR: shm }
  const log = join(dir, 'out.log')
  const manifest = join(dir, 'manifest.yaml')
  writeFileSync(
    manifest,
    `version: 1\napp: ${app}\npipelines:\n  main:\n    sources:\n      - use: shm\n${extraSources}    sinks:\n      - use: file\n        path: ${log}\n`,
  )
  const child: ChildProcess = spawn(process.execPath, [cliBin, 'compose', manifest], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise((r) => child.once('exit', r))
  const session = runtimePaths(app, env).sessionFile
  for (let i = 0; i < 400 && !existsSync(session); i++) {
    if (child.exitCode !== null) break
    await sleep(25)
  }
  if (!existsSync(session)) {
    child.kill('SIGKILL')
    throw new Error('logkit compose did not start')
  }
  const entries = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>)
      : []
  return {
    app,
    env,
    log,
    dir,
    entries,
    async waitFor(predicate, ms = 30_000) {
      const deadline = Date.now() + ms
      for (;;) {
        const all = entries()
        if (predicate(all) || Date.now() > deadline) return all
        await sleep(100)
      }
    },
    async stop() {
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(20_000)])
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      rmSync(shm, { recursive: true, force: true })
    },
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Runs `node fixture args…` with the collector's environment; resolves its exit code or signal and output. */
export function run(collector: Collector, fixture: string, args: string[]): Promise<RunResult> {
  return runIn(undefined, fixture, args, { ...collector.env, APP: collector.app })
}

/** Entries of the pino app (the collector's own diagnostics left out). */
export function produced(entries: Record<string, unknown>[]): Record<string, unknown>[] {
  return entries.filter((e) => e['name'] !== 'logkit')
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs `node fixture args…` in `cwd` with `env` added. */
export function runIn(
  cwd: string | undefined,
  fixture: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(fixtures, fixture), ...args], {
      ...(cwd === undefined ? {} : { cwd }),
      // Without tap's NODE_OPTIONS: its loaders handle SIGTERM, which would hide how a plain process dies.
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => (stdout += d))
    child.stderr?.on('data', (d) => (stderr += d))
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}
