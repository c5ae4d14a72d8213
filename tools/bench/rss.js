// The collector's memory over a steady run: `logkit compose` with its
// defaults (shm → file, json) while 2 producer processes log 50,000 entries/s
// each (100,000/s in all) for 60 s (10 s in quick mode). Its VmRSS is read
// from /proc/PID/status every 250 ms: at the start (before the producers),
// the peak, the end, and whether it grows: the median of the run's last
// quarter against that of its second quarter (the first is warm-up).

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { freshEnv } from './e2e.js'
import { median } from './measure.js'
import {
  defaultManifest,
  fixture,
  lineCounter,
  rssKiBOf,
  runNode,
  startCompose,
  waitForCount,
} from './procs.js'

const PRODUCERS = 2
const RATE_EACH = 50_000

export async function collectorRss({ quick }) {
  const seconds = quick ? 10 : 60
  const { base, env, shm } = freshEnv()
  const log = join(base, 'bench.log')
  let collector
  let timer
  try {
    collector = await startCompose({ dir: base, manifest: defaultManifest('bench', log), app: 'bench', env })
    const startKiB = rssKiBOf(collector.pid)
    const samples = []
    timer = setInterval(() => samples.push(rssKiBOf(collector.pid)), 250)
    const runs = await Promise.all(
      Array.from({ length: PRODUCERS }, (_, i) =>
        runNode([fixture('paced.mjs'), RATE_EACH, seconds, `p${i}`], { env }),
      ),
    )
    const logged = runs.reduce((sum, run) => sum + Number(/logged (\d+)/.exec(run.stdout)?.[1]), 0)
    const dropped = runs.reduce((sum, run) => sum + Number(/dropped (\d+)/.exec(run.stdout)?.[1]), 0)
    const lines = lineCounter(log, '"msg":"request completed"')
    await waitForCount(lines, logged - dropped, { what: 'lines in the file', check: collector.check })
    clearInterval(timer)
    const endKiB = rssKiBOf(collector.pid)
    const quarter = Math.max(1, Math.floor(samples.length / 4))
    const second = median(samples.slice(quarter, 2 * quarter))
    const last = median(samples.slice(-quarter))
    const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`
    const growth = last - second
    console.log(
      `${PRODUCERS} producers × ${RATE_EACH.toLocaleString('en')} entries/s for ${seconds} s (${logged.toLocaleString('en')} logged, ${dropped} dropped), collector VmRSS every 250 ms:`,
    )
    console.log(
      `  start ${mib(startKiB)}  peak ${mib(Math.max(...samples))}  end ${mib(endKiB)}  second quarter ${mib(second)} → last quarter ${mib(last)} (${growth >= 0 ? '+' : ''}${mib(growth)}, ${((growth / second) * 100).toFixed(1)} %)`,
    )
    console.log('  goal: flat (no growth over the run)')
  } finally {
    clearInterval(timer)
    await collector?.stop()
    rmSync(base, { recursive: true, force: true })
    rmSync(shm, { recursive: true, force: true })
  }
}
