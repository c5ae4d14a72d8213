// Shared test helpers: isolated runtime and shared-memory directories, the
// built CLI as a child process, the CLI in-process with captured output, and
// waiting for things (generous timeouts only: never a timing threshold).

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { type PrivateRuntimeEnv, privateRuntimeEnv, waitFor } from '@logkit/core/testing'
import { run } from '../src/cli.js'

export const cliBin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
export const manifests = fileURLToPath(new URL('./manifests/', import.meta.url))
export const producerScript = fileURLToPath(new URL('./fixtures/producer.js', import.meta.url))

export type IsolatedEnv = PrivateRuntimeEnv

/** Fresh runtime, shared-memory and scratch directories, removed when the test process exits. */
export function isolatedEnv(): IsolatedEnv {
  return privateRuntimeEnv('logkit-cli-')
}

/** Everything under a directory (relative paths), or [] when it does not exist. */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true }).map(String).sort()
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export { waitFor } from '@logkit/core/testing'

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Child {
  readonly process: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exit: Promise<Exit>
}

/** Starts a node script with the test's environment. */
export function startNode(args: readonly string[], env: Record<string, string>, cwd?: string): Child {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exit = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  return { process: child, stdout: () => stdout, stderr: () => stderr, exit }
}

/** Runs the built CLI to its end. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<Exit> {
  const child = startNode([cliBin, ...args], env, cwd)
  child.process.stdin?.end()
  return child.exit
}

/** Runs the CLI in this process with captured output. */
export async function runInProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  const code = await run(args, { stdout, stderr, env })
  return { code, stdout: out, stderr: err }
}

/** waitFor for an asynchronous check (waitFor would take the promise itself as truthy). */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** Resolves with the path of the control socket once `app`'s compose serves it (from its session file). */
export async function controlSocketOf(runtimeDir: string, app: string): Promise<string> {
  return waitFor(() => {
    try {
      const session = JSON.parse(readFileSync(join(runtimeDir, app, 'session.json'), 'utf8')) as {
        transports?: { control?: { socket?: string } }
      }
      return session.transports?.control?.socket
    } catch {
      return undefined
    }
  }, 'the control socket in the session')
}

/** The whole JSON lines of a file ([] when it does not exist); the last segment may still be being written. */
export function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as T)
}
