// Runs test/fixtures/pipeline-child.mjs (a collector on the built packages)
// and follows what it reports on stdout.

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'

const CHILD = new URL('./fixtures/pipeline-child.mjs', import.meta.url).pathname
const BUILT = new URL('../dist/index.js', import.meta.url).pathname

export interface Collector {
  readonly child: ChildProcess
  /** Highest n reported durable so far. */
  readonly durable: number
  /** Resolves once `count` more `durable` reports have arrived. */
  reports(count: number): Promise<void>
  /** Resolves with the child's `closed` line values and exit code, or its signal. */
  readonly exited: Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    closed?: number
    written?: number
  }>
}

export function startCollector(path: string, run: number, options: object): Collector {
  if (!existsSync(BUILT))
    throw new Error('build first: npx tsc -b packages/sink-file (from the repository root)')
  const child = spawn(process.execPath, [CHILD, path, String(run), JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let durable = 0
  let count = 0
  let closed: number | undefined
  let written: number | undefined
  const waiters: { at: number; resolve: () => void }[] = []
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const d = /^durable (\d+)$/.exec(line)
    if (d) {
      durable = Number(d[1])
      count++
      for (const w of waiters.filter((w) => w.at <= count)) w.resolve()
      return
    }
    const c = /^closed (\d+) (\d+)$/.exec(line)
    if (c) {
      closed = Number(c[1])
      written = Number(c[2])
    }
  })
  const exited = new Promise<Awaited<Collector['exited']>>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, closed, written })),
  )
  return {
    child,
    get durable() {
      return durable
    },
    reports(more) {
      const at = count + more
      return new Promise((resolve, reject) => {
        waiters.push({ at, resolve })
        void exited.then(() => reject(new Error(`the collector exited after ${count} of ${at} reports`)))
      })
    },
    exited,
  }
}
