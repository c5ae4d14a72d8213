// Latency: one producer process logs at 10,000 entries/s through shm into a
// collector (this process: the shm source and the file sink with their
// defaults, as `logkit compose` builds them). Each entry carries `t`, the
// producer's process.hrtime.bigint() at the call; the file sink is wrapped so
// that, when a batch's write resolves (the file sink has handed its last byte
// to the OS), the wrapper reads its own hrtime and subtracts each entry's
// `t`. hrtime is CLOCK_MONOTONIC on Linux, one clock for every process on the
// machine, so no clocks need to be reconciled. The first half second
// (discovery, warm-up) is left out.

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createPipeline } from '@logkit/core'
import { createFileSink } from '@logkit/sink-file'
import { createShmSource } from '@logkit/transport-shm'
import { freshEnv } from './e2e.js'
import { fixture, runNode } from './procs.js'

const RATE = 10_000

/** The file sink, timing each batch from each entry's `t` to the moment its write resolved. */
function timedFileSink(path, latenciesNs, fromNs) {
  const inner = createFileSink({ path })
  return {
    async write(batch) {
      await inner.write(batch)
      const now = Number(process.hrtime.bigint())
      for (const entry of batch) {
        const t = entry.fields.get('t')
        if (typeof t === 'number' && t >= fromNs) latenciesNs.push(now - t)
      }
    },
    flush: () => inner.flush(),
    close: () => inner.close(),
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

export async function latency({ quick }) {
  const seconds = quick ? 3 : 10
  const { base, env, shm } = freshEnv()
  const latenciesNs = []
  const fromNs = Number(process.hrtime.bigint()) + 500e6
  const pipeline = createPipeline({
    app: 'bench',
    sources: [{ id: 'shm', create: (ctx) => createShmSource('bench', { env }, ctx) }],
    sinks: [{ id: 'file', sink: timedFileSink(join(base, 'out.log'), latenciesNs, fromNs) }],
    diagnosticEntries: false,
  })
  try {
    await pipeline.start()
    const { stdout } = await runNode([fixture('paced.mjs'), RATE, seconds, 'paced'], { env })
    const logged = Number(/logged (\d+)/.exec(stdout)?.[1])
    await pipeline.flush()
    const sorted = Float64Array.from(latenciesNs).sort()
    const ms = (ns) => (ns / 1e6).toFixed(3)
    console.log(
      `1 producer at ${RATE.toLocaleString('en')} entries/s for ${seconds} s (${logged.toLocaleString('en')} logged, ${sorted.length.toLocaleString('en')} timed after the first 0.5 s):`,
    )
    console.log(
      `  log.info() → written to the file: p50 ${ms(percentile(sorted, 50))} ms  p90 ${ms(percentile(sorted, 90))} ms  p99 ${ms(percentile(sorted, 99))} ms  max ${ms(sorted[sorted.length - 1])} ms`,
    )
    console.log('  goal: p99 ≤ 2 ms')
  } finally {
    await pipeline.close()
    rmSync(base, { recursive: true, force: true })
    rmSync(shm, { recursive: true, force: true })
  }
}
