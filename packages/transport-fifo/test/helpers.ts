// Shared test helpers: isolated runtime directories, producer and collector
// child processes driven over stdin/stdout, and waiting for things to happen
// (generous timeouts only: never a timing threshold).

import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createPipeline, type Diagnostic, type LogEntry, useSource } from '@logkit/core'
import { createMemorySink, tempDir } from '@logkit/core/testing'
import { fifoSource } from '../src/index.js'

export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

/** A fresh runtime directory, removed when the test process exits; also set as LOGKIT_RUNTIME_DIR for children. */
export function runtimeEnv(): { LOGKIT_RUNTIME_DIR: string } {
  return { LOGKIT_RUNTIME_DIR: join(tempDir('logkit-fifo-'), 'run') }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export { waitFor } from '@logkit/core/testing'

export interface Reply {
  readonly [key: string]: unknown
}

/** A child process that answers each command with one JSON line. */
export class Child {
  readonly process: ChildProcess
  readonly lines: Reply[] = []
  readonly #waiters: { match: (r: Reply) => boolean; resolve: (r: Reply) => void }[] = []
  readonly exited: Promise<number | null>

  constructor(script: string, config: unknown, env: Record<string, string>) {
    this.process = spawn(process.execPath, [fixture(script), JSON.stringify(config)], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)))
    const rl = createInterface({ input: this.process.stdout as NodeJS.ReadableStream })
    rl.on('line', (line) => {
      const reply = JSON.parse(line) as Reply
      this.lines.push(reply)
      const i = this.#waiters.findIndex((w) => w.match(reply))
      if (i >= 0) this.#waiters.splice(i, 1)[0]?.resolve(reply)
    })
  }

  get pid(): number {
    return this.process.pid as number
  }

  /** The first line (already seen or still to come) that matches. */
  next(match: (r: Reply) => boolean, what: string, timeoutMs = 30_000): Promise<Reply> {
    const seen = this.lines.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child ${this.pid}: timed out waiting for ${what}`)),
        timeoutMs,
      )
      this.#waiters.push({
        match,
        resolve: (r) => {
          clearTimeout(timer)
          resolve(r)
        },
      })
    })
  }

  ready(): Promise<Reply> {
    return this.next((r) => r['ready'] !== undefined || r['refused'] !== undefined, 'ready')
  }

  /** Sends a command and waits for its answer. */
  async command(line: string, timeoutMs = 60_000): Promise<Reply> {
    const name = line.split(' ')[0]
    const from = this.lines.length
    this.process.stdin?.write(`${line}\n`)
    return this.next((r) => r['done'] === name && this.lines.indexOf(r) >= from, `"${line}"`, timeoutMs)
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill(signal)
  }
}

export interface ProducerConfig {
  readonly app: string
  readonly source: string
  readonly bufferBytes?: number
  readonly policy?: 'block' | 'drop' | 'drop_newest' | 'drop_oldest'
  readonly blockMs?: number
  readonly closeTimeoutMs?: number
  readonly heartbeatMs?: number
  readonly padBytes?: number
  readonly flushTimeoutMs?: number
}

export function producer(config: ProducerConfig, env: Record<string, string>): Child {
  return new Child('producer.mjs', config, env)
}

export interface ProducerStats {
  readonly logger: { seq: number; written: number; dropped: number }
  readonly transport: {
    connected: boolean
    dropped: number
    bufferedBytes: number
    connections: number
    blocked: number
    abandoned: number
  }
}

export const statsOf = (reply: Reply) => reply as unknown as ProducerStats

/** Entries of one producer (by pid), in arrival order. */
export const entriesOf = (entries: readonly LogEntry[], pid: number) =>
  entries.filter((e) => e.pid === pid && e.source !== 'logkit')

/** Sum of the counts of diagnostics with `code` about producer `pid`. */
export function countOf(diagnostics: readonly Diagnostic[], code: string, pid: number): number {
  return diagnostics
    .filter((d) => d.code === code && d.details?.['pid'] === pid)
    .reduce((n, d) => n + (d.count ?? 0), 0)
}

/** True when `seqs` is exactly from, from+1, …, to. */
export function contiguous(seqs: readonly number[], from: number, to: number): boolean {
  if (seqs.length !== to - from + 1) return false
  for (let i = 0; i < seqs.length; i++) if (seqs[i] !== from + i) return false
  return true
}

/** A collector in this process: one pipeline, the fifo source of `app` (scanning every 50 ms) into a memory sink. */
export function collector(
  env: { LOGKIT_RUNTIME_DIR: string },
  app: string,
  options: Record<string, unknown> = {},
) {
  const sink = createMemorySink()
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    app,
    sources: [useSource(fifoSource, { env, scanMs: 50, ...options })],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
  })
  return { pipeline, sink, diagnostics }
}

/** The [pid, seq] of each entry of producer `pid` that a collector.mjs process printed as written (kept even once it is killed). */
export function deliveredBy(collectorChild: Child, pid: number): [number, number][] {
  return collectorChild.lines.flatMap((r) =>
    ((r['entries'] as [number, number][] | undefined) ?? []).filter(([of]) => of === pid),
  )
}
