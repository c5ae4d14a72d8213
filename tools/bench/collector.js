// The collector alone: four rings are filled first (no collector running),
// then one collector drains them into a counting sink, and into a counting
// sink plus the file sink. Reports wall time and the collector's CPU per
// entry, the figure that bounds the end-to-end scenario on few cores.

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, createPipeline } from '@logkit/core'
import { createFileSink } from '@logkit/sink-file'
import { createShmSource, shm } from '@logkit/transport-shm'
import { countingSink, freshEnv } from './e2e.js'
import { median } from './measure.js'

const fields = { reqId: 'c0ffee-42', userId: 1234, path: '/api/orders/42' }

/** Fills `rings` shm rings of app 'bench' with `perRing` entries each, from this process (no collector running). */
export async function fillRings(env, { rings = 4, perRing }) {
  for (let i = 0; i < rings; i++) {
    const transport = shm({ app: 'bench', source: `p${i}`, capacity: 64 * 1024 * 1024, env })
    const log = createLogger({ app: 'bench', source: `p${i}`, transport })
    for (let k = 0; k < perRing; k++) log.info(fields, 'request completed')
    await log.close()
    if (log.stats.dropped > 0) throw new Error(`ring p${i} dropped ${log.stats.dropped} entries`)
  }
}

async function drainOnce({ perRing, withFile }) {
  const { base, env, shm: shmDir } = freshEnv()
  await fillRings(env, { perRing })
  const counter = countingSink()
  const queue = { capacity: 20_000, maxBatch: 2000 }
  const sinks = [{ id: 'count', sink: counter.sink, queue }]
  if (withFile) sinks.push({ id: 'file', sink: createFileSink({ path: join(base, 'out.log') }), queue })
  const pipeline = createPipeline({
    app: 'bench',
    sources: [{ id: 'shm', create: (ctx) => createShmSource('bench', { env }, ctx) }],
    sinks,
    diagnosticEntries: false,
  })
  const total = 4 * perRing
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  await pipeline.start()
  while (counter.count() < total) await new Promise((r) => setImmediate(r))
  if (withFile) await pipeline.flush()
  const used = process.cpuUsage(cpu)
  const wallNs = Number(process.hrtime.bigint() - start) / total
  await pipeline.close()
  rmSync(base, { recursive: true, force: true })
  rmSync(shmDir, { recursive: true, force: true })
  return { wallNs, cpuNs: ((used.user + used.system) * 1000) / total }
}

export async function collectorDrain({ quick }) {
  const perRing = quick ? 25_000 : 100_000
  const rounds = quick ? 1 : 3
  console.log(
    `4 rings × ${perRing.toLocaleString('en')} entries, filled first, then drained (after a warm-up); median of ${rounds}:`,
  )
  for (const withFile of [false, true]) {
    const runs = []
    await drainOnce({ perRing: 10_000, withFile }) // warm-up, untimed
    for (let r = 0; r < rounds; r++) runs.push(await drainOnce({ perRing, withFile }))
    const wall = median(runs.map((x) => x.wallNs))
    const cpu = median(runs.map((x) => x.cpuNs))
    const name = withFile ? 'shm → collector → count + file' : 'shm → collector → count'
    console.log(
      `  ${name.padEnd(32)} ${wall.toFixed(0).padStart(6)} ns/entry wall  ${cpu.toFixed(0).padStart(6)} ns/entry CPU`,
    )
  }
  console.log('  (no goal of its own: on 2 cores this bounds the end-to-end scenario)')
}
