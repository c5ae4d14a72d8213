// Scaling: the same total of entries from 1, 2, 4, 8, 16 and 32 producer
// processes into one `logkit compose` (defaults: shm → file, json). The
// figure is the collector's CPU per entry, read from /proc/PID/stat (10 ms
// ticks) between the producers' spawn and the last line in the file, and its
// ratio to the best count: a collector that pays per ring, per wake-up or per
// small batch shows it here.

import { completed, composeRun } from './compose.js'
import { formatRate, median } from './measure.js'

const COUNTS = [1, 2, 4, 8, 16, 32]

export async function scaling({ quick }) {
  const total = quick ? 64_000 : 320_000
  const rounds = 1
  const samples = new Map(COUNTS.map((n) => [n, []]))
  for (let r = 0; r < rounds; r++) {
    for (const n of COUNTS) {
      const perProducer = total / n
      // Every producer with the shm transport's default ring (4 MiB), as a user's would be.
      samples.get(n).push(await composeRun({ producers: n, perProducer, ringBytes: 4 * 1024 * 1024 }))
    }
  }
  const rows = COUNTS.map((n) => {
    const runs = completed(samples.get(n), `${n} producer(s)`)
    if (runs.length === 0) return { n, collectorNs: Number.NaN, wallMs: Number.NaN }
    return {
      n,
      collectorNs: median(runs.map((x) => (x.collectorUs * 1000) / total)),
      wallMs: median(runs.map((x) => x.wallMs)),
    }
  })
  const best = Math.min(...rows.filter((r) => r.collectorNs > 0).map((r) => r.collectorNs))
  console.log(
    `${total.toLocaleString('en')} entries in all, split over N producer processes, into logkit compose; median of ${rounds}:`,
  )
  for (const r of rows) {
    if (Number.isNaN(r.collectorNs)) {
      console.log(`  ${String(r.n).padStart(2)} producer(s)  no round completed (above)`)
      continue
    }
    console.log(
      `  ${String(r.n).padStart(2)} producer(s)  collector ${r.collectorNs.toFixed(0).padStart(5)} ns/entry CPU  ${(r.collectorNs / best).toFixed(2)}× the best  ${formatRate((total / r.wallMs) * 1000).padStart(9)} entries/s wall`,
    )
  }
  console.log('  goal: flat, every count ≤ 1.3× the best')
}
