// Latency: one producer process logs at 10,000 entries/s through shm into a
// collector (this process: the shm source and the file sink with their
// defaults, as `logkit compose` builds them; the sink takes the entries as
// bytes, its byte path). Each entry carries `t`, the producer's
// process.hrtime.bigint() at the call; the file sink is wrapped so that, when
// a write resolves (the file sink has handed its last byte to the OS), the
// wrapper reads its own hrtime and subtracts each entry's `t`, read from the
// entry's fields bytes (nothing decoded). hrtime is CLOCK_MONOTONIC on Linux,
// one clock for every process on the machine, so no clocks need to be
// reconciled. The first half second (discovery, warm-up) is left out. The
// collector's CPU over the run is reported per entry: at a steady, modest
// rate every entry pays a wake-up's share.

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createPipeline } from '@logkit/core'
import { SPAN_FIELDS } from '@logkit/core/wire'
import { createFileSink } from '@logkit/sink-file'
import { createShmSource } from '@logkit/transport-shm'
import { freshEnv } from './e2e.js'
import { fixture, runNode } from './procs.js'

const RATE = 10_000
const T_FIELD = /"t":(\d+)/

/** The file sink, timing each write from each entry's `t` to the moment the write resolved. */
function timedFileSink(path, latenciesNs, fromNs) {
  const inner = createFileSink({ path })
  const time = (now, t) => {
    if (t >= fromNs) latenciesNs.push(now - t)
  }
  return {
    async writeEntries(batches) {
      await inner.writeEntries(batches)
      const now = Number(process.hrtime.bigint())
      for (const { index, rows, length } of batches) {
        for (let k = 0; k < length; k++)
          time(now, Number(T_FIELD.exec(index.text(rows[k], SPAN_FIELDS))?.[1]))
      }
    },
    async write(batch) {
      await inner.write(batch)
      const now = Number(process.hrtime.bigint())
      for (const entry of batch) time(now, Number(entry.fields.get('t')))
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
    const cpu0 = process.cpuUsage()
    const { stdout } = await runNode([fixture('paced.mjs'), RATE, seconds, 'paced'], { env })
    const logged = Number(/logged (\d+)/.exec(stdout)?.[1])
    await pipeline.flush()
    const cpu = process.cpuUsage(cpu0)
    const sorted = Float64Array.from(latenciesNs).sort()
    const ms = (ns) => (ns / 1e6).toFixed(3)
    console.log(
      `1 producer at ${RATE.toLocaleString('en')} entries/s for ${seconds} s (${logged.toLocaleString('en')} logged, ${sorted.length.toLocaleString('en')} timed after the first 0.5 s):`,
    )
    console.log(
      `  log.info() → written to the file: p50 ${ms(percentile(sorted, 50))} ms  p90 ${ms(percentile(sorted, 90))} ms  p99 ${ms(percentile(sorted, 99))} ms  max ${ms(sorted[sorted.length - 1])} ms`,
    )
    console.log('  goal: p99 ≤ 2 ms')
    console.log(
      `  collector CPU while the producer ran: ${Math.round((cpu.user + cpu.system) / 1e3)} ms, ${((cpu.user + cpu.system) / logged).toFixed(1)} µs per entry`,
    )
  } finally {
    await pipeline.close()
    rmSync(base, { recursive: true, force: true })
    rmSync(shm, { recursive: true, force: true })
  }
}
