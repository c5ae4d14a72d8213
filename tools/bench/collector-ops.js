// The collector's byte path, measured in this process: four rings are filled
// first (no collector running), then one pipeline drains them into the file
// sink (json, the manifest's defaults) with no operators, with `filter`
// (level) + `rateLimit`, and with a `filter` on a field value. The operators
// are made as the manifest makes them, through useOperator(coreOperators.X).
// Every entry passes every operator (info ≥ info, a rate far above the drain's,
// userId = 1234), so each variant writes the same lines and only the work per
// entry differs.
//
// `collector-ops` reports the collector's CPU per entry (process.cpuUsage,
// user + system, from start to the file's flush) beside throughput, with
// pino.transport's whole pipeline (calling thread + worker) as context.
// `collector-alloc` runs the same drains under V8's sampling heap profiler
// (through node:inspector, keeping samples of objects the GC already
// collected) and reports the bytes allocated per entry.

import { rmSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import { coreOperators, createPipeline, useOperator, useSink } from '@logkit/core'
import { wireImplementation } from '@logkit/core/wire'
import { fileSink } from '@logkit/sink-file'
import { createShmSource } from '@logkit/transport-shm'
import pino from 'pino'
import { fillRings } from './collector.js'
import { countingSink, freshEnv } from './e2e.js'
import { formatRate, median } from './measure.js'
import { waitForCount } from './procs.js'

const RINGS = 4

export const variants = [
  { name: 'shm → file, no operators', goalNs: 300, operators: () => [] },
  {
    name: 'shm → filter (level) + rateLimit → file',
    goalNs: 400,
    operators: () => [
      useOperator(coreOperators.filter, { level: 'info' }),
      // Far above any drain rate: it counts tokens for every entry and admits all.
      useOperator(coreOperators.rateLimit, { perSecond: 1e9, burst: 1e9 }),
    ],
  },
  {
    name: 'shm → filter (field value) → file',
    goalNs: 1000,
    operators: () => [useOperator(coreOperators.filter, { fields: { userId: 1234 } })],
  },
]

const countVariant = { name: 'shm → count (no file)', operators: () => [], count: true }

/**
 * Fills the rings, then drains them through `variant`; resolves wall and CPU
 * ns per entry. `around` (optional) starts before the pipeline and stops after
 * the flush; what its stop() resolves is returned as `measured`.
 */
async function drain(variant, { perRing, around }) {
  const { base, env, shm } = freshEnv()
  try {
    await fillRings(env, { rings: RINGS, perRing })
    const total = RINGS * perRing
    const counter = countingSink()
    const sink = variant.count
      ? { id: 'count', sink: counter.sink }
      : useSink(fileSink, { path: join(base, 'out.log') }, { id: 'file' })
    const pipeline = createPipeline({
      app: 'bench',
      sources: [{ id: 'shm', create: (ctx) => createShmSource('bench', { env }, ctx) }],
      operators: variant.operators(),
      sinks: [sink],
      diagnosticEntries: false,
    })
    const written = variant.count ? counter.count : () => pipeline.stats().sinks[0].written
    if (around) await around.start()
    const start = process.hrtime.bigint()
    const cpu = process.cpuUsage()
    await pipeline.start()
    await waitForCount(written, total, { everyMs: 1, what: 'entries written' })
    await pipeline.flush()
    const used = process.cpuUsage(cpu)
    const wallNs = Number(process.hrtime.bigint() - start) / total
    const measured = around ? await around.stop() : undefined
    await pipeline.close()
    return { wallNs, cpuNs: ((used.user + used.system) * 1000) / total, measured }
  } finally {
    rmSync(base, { recursive: true, force: true })
    rmSync(shm, { recursive: true, force: true })
  }
}

/** pino.transport(pino/file) in this process: n calls, then until the worker has flushed; CPU of both threads. */
async function pinoTransportRun(n, dir) {
  // pino's worker thread is unref'd: hold the event loop open while waiting for it.
  const keepAlive = setInterval(() => {}, 1000)
  const transport = pino.transport({ target: 'pino/file', options: { destination: join(dir, 'pino.log') } })
  await new Promise((resolve) => transport.once('ready', resolve))
  const log = pino(transport)
  const fields = { reqId: 'c0ffee-42', userId: 1234, path: '/api/orders/42' }
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  for (let i = 0; i < n; i++) log.info(fields, 'request completed')
  await new Promise((resolve) => transport.flush(resolve))
  const used = process.cpuUsage(cpu)
  const wallNs = Number(process.hrtime.bigint() - start) / n
  await new Promise((resolve) => {
    transport.once('close', resolve)
    transport.end()
  })
  clearInterval(keepAlive)
  return { wallNs, cpuNs: ((used.user + used.system) * 1000) / n }
}

export async function collectorOperators({ quick }) {
  const perRing = quick ? 25_000 : 100_000
  const rounds = quick ? 1 : 3
  const total = RINGS * perRing
  const pinoName = 'pino.transport(pino/file), whole pipeline (context)'
  const samples = new Map([...variants.map((v) => [v.name, []]), [pinoName, []]])
  const { base, shm } = freshEnv()
  try {
    // Round -1 is a smaller warm-up, untimed; then interleaved rounds.
    for (let r = -1; r < rounds; r++) {
      for (const v of variants) {
        const run = await drain(v, { perRing: r < 0 ? 10_000 : perRing })
        if (r >= 0) samples.get(v.name).push(run)
      }
      const run = await pinoTransportRun(r < 0 ? 40_000 : total, base)
      if (r >= 0) samples.get(pinoName).push(run)
    }
  } finally {
    rmSync(base, { recursive: true, force: true })
    rmSync(shm, { recursive: true, force: true })
  }
  console.log(
    `${RINGS} rings × ${perRing.toLocaleString('en')} entries, filled first, then drained into the file sink (json); median of ${rounds}; wire loops: ${wireImplementation()} (LOGKIT_WIRE=js for the TypeScript ones):`,
  )
  const width = Math.max(...[...samples.keys()].map((k) => k.length))
  for (const [name, runs] of samples) {
    const wall = median(runs.map((x) => x.wallNs))
    const cpu = median(runs.map((x) => x.cpuNs))
    const goal = variants.find((v) => v.name === name)?.goalNs
    const vsGoal = goal ? `  goal ≤ ${goal} ns (${(cpu / goal).toFixed(1)}× the goal)` : ''
    console.log(
      `  ${name.padEnd(width)}  ${cpu.toFixed(0).padStart(6)} ns/entry CPU  ${formatRate(1e9 / wall).padStart(10)} entries/s${vsGoal}`,
    )
  }
  console.log('  goal: one collector drains pre-filled rings into a file at ≥ 3M entries/s (no operators)')
  console.log(
    '  (the pino row is producer and worker together, for scale: logkit rows are the collector alone)',
  )
}

/** The sampling heap profiler, keeping samples of objects already collected: bytes allocated in between. */
function heapSampler(session) {
  return {
    async start() {
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 8192,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      })
    },
    async stop() {
      const { profile } = await session.post('HeapProfiler.stopSampling')
      let bytes = 0
      const walk = (node) => {
        bytes += node.selfSize
        for (const child of node.children) walk(child)
      }
      walk(profile.head)
      return bytes
    },
  }
}

export async function collectorAllocation({ quick }) {
  const perRing = quick ? 25_000 : 100_000
  const total = RINGS * perRing
  const session = new Session()
  session.connect()
  try {
    await session.post('HeapProfiler.enable')
    const sampler = heapSampler(session)
    console.log(
      `${RINGS} rings × ${perRing.toLocaleString('en')} entries, filled first, then drained under V8's sampling heap profiler (every 8 KiB, collected objects kept); wire loops: ${wireImplementation()}:`,
    )
    for (const v of [countVariant, ...variants]) {
      await drain(v, { perRing: 10_000 }) // warm-up, unsampled
      const { measured } = await drain(v, { perRing, around: sampler })
      console.log(`  ${v.name.padEnd(40)}  ${(measured / total).toFixed(0).padStart(6)} B/entry allocated`)
    }
    console.log('  goal: ≤ 64 B allocated per entry by the collector (today 760–1,024 B)')
  } finally {
    await session.post('HeapProfiler.disable').catch(() => {})
    session.disconnect()
  }
}
