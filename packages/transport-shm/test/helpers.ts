// Test helpers: isolated runtime dirs, real producer processes, and a
// collector pipeline over the shm source.

import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createPipeline, type Diagnostic, type LogEntry } from '@logkit/core'
import { createMemorySink, privateRuntimeEnv, waitFor } from '@logkit/core/testing'
import { createShmSource } from '../src/source.js'

export const producerScript = fileURLToPath(new URL('./fixtures/producer.mjs', import.meta.url))
export const collectorScript = fileURLToPath(new URL('./fixtures/collector.mjs', import.meta.url))

/** A private runtime dir and shm dir for one test, removed when the test process exits. */
export function isolatedEnv(): Record<string, string> {
  const { LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR } = privateRuntimeEnv('logkit-shm-test-')
  return { LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR }
}

export function withEnv<T>(env: Record<string, string>, fn: () => T): T {
  const saved: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  try {
    return fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

export interface ProducerResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly out: { done: number; dropped: number; file: string } | undefined
}

export function startProducer(
  env: Record<string, string>,
  args: (string | number)[],
): { child: ChildProcess; result: Promise<ProducerResult> } {
  const child = spawn(process.execPath, [producerScript, ...args.map(String)], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  let text = ''
  child.stdout?.on('data', (d) => {
    text += d
  })
  const result = new Promise<ProducerResult>((resolve) => {
    child.on('exit', (code, signal) => {
      let out: ProducerResult['out']
      try {
        out = JSON.parse(text.trim().split('\n')[0] ?? '')
      } catch {}
      resolve({ code, signal, out })
    })
  })
  return { child, result }
}

/** A collector: an shm source into a memory sink, with diagnostics kept. */
export async function startCollector(
  app: string,
  env: Record<string, string>,
  options: Record<string, unknown> = {},
) {
  const sink = createMemorySink()
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    app,
    sources: [{ id: 'shm', create: (ctx) => createShmSource(app, { ...options, env }, ctx) }],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
    diagnosticEntries: false,
  })
  await pipeline.start()
  return { pipeline, sink, diagnostics }
}

export interface CollectorProcess {
  readonly child: ChildProcess
  /** The diagnostics it printed so far. */
  readonly diagnostics: { code: string; count?: number; details?: Record<string, unknown> }[]
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** A collector in a process of its own (fixtures/collector.mjs), printing its diagnostics; resolves once it is ready. */
export async function startCollectorProcess(
  app: string,
  env: Record<string, string>,
  out: string,
): Promise<CollectorProcess> {
  const child = spawn(process.execPath, [collectorScript, app, out], {
    env: { ...process.env, ...env, FIXTURE_DIAGNOSTICS: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const diagnostics: CollectorProcess['diagnostics'] = []
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  let text = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      text += d
      const lines = text.split('\n')
      text = lines.pop() ?? ''
      for (const line of lines) {
        if (line === 'ready') resolve()
        else if (line.startsWith('{')) diagnostics.push(JSON.parse(line))
      }
    })
    exited.then(() => reject(new Error('the collector process exited before it was ready')))
  })
  return { child, diagnostics, exited }
}

/** Resolves when `check()` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 60_000, what = 'condition'): Promise<void> {
  await waitFor(check, what, ms)
}

/** Entries of a sink grouped by pid, as seq lists. */
export function seqsByPid(entries: readonly LogEntry[]): Map<number, number[]> {
  const out = new Map<number, number[]>()
  for (const e of entries) {
    if (e.source === 'logkit') continue
    let list = out.get(e.pid)
    if (list === undefined) {
      list = []
      out.set(e.pid, list)
    }
    list.push(e.seq)
  }
  return out
}
