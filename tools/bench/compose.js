// End to end as a user runs it: `logkit compose` with a manifest that keeps
// every default (the shm source, the file sink, json) and 4 worker processes
// logging through the light entry points, alternating round by round with
// the same 4 processes logging through pino.transport (pino/file, one file
// per process).
//
// Timed from spawning the producers until every line is in the file(s).
// CPU per entry: each producer process reports its own process.cpuUsage() as
// it exits (start-up included, pino's worker thread included), and the
// collector's CPU is read from /proc/PID/stat before the producers start and
// once the last line is in the file (its own start-up is not counted).

import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runtimePaths } from '@logkit/core/producer'
import { freshEnv } from './e2e.js'
import { formatRate, median } from './measure.js'
import {
  cpuUsOf,
  defaultManifest,
  fixture,
  lineCounter,
  reportedCpuUs,
  runNode,
  startCompose,
  waitForCount,
} from './procs.js'

const producerScript = fixture('producer.mjs')

/** Runs `producers` fixture producers of `kind` at once; resolves the CPU µs they used in all. */
async function producersCpu(kind, producers, perProducer, env, fileOf) {
  const runs = await Promise.all(
    Array.from({ length: producers }, (_, i) =>
      runNode([producerScript, kind, perProducer, `p${i}`, ...(fileOf ? [fileOf(i)] : [])], {
        env: { ...env, LOGKIT_BENCH_CPU: '1' },
      }),
    ),
  )
  return runs.reduce((sum, run) => sum + reportedCpuUs(run.stdout), 0)
}

/**
 * One round of logkit compose: returns wall ms and CPU µs of producers and
 * collector. `ringBytes` sets the producers' ring size (the scaling scenario
 * gives 32 producers smaller rings); `kind` is the producers' (producer.mjs:
 * shm, or pino-logkit for pino with logkitDestination).
 */
export async function composeRun({ producers, perProducer, ringBytes, kind = 'shm' }) {
  const { base, env, shm } = freshEnv()
  const log = join(base, 'bench.log')
  let collector
  try {
    collector = await startCompose({ dir: base, manifest: defaultManifest('bench', log), app: 'bench', env })
    // The producers' lines only: the collector adds its own (a producer's exit, say).
    const lines = lineCounter(log, '"msg":"request completed"')
    const collectorBefore = cpuUsOf(collector.pid)
    const start = process.hrtime.bigint()
    const producerEnv = ringBytes ? { ...env, LOGKIT_BENCH_RING_BYTES: String(ringBytes) } : env
    const producerUs = await producersCpu(kind, producers, perProducer, producerEnv)
    try {
      await waitForCount(lines, producers * perProducer, {
        what: 'lines in the file',
        check: collector.check,
      })
    } catch (err) {
      if (err.seen === undefined) throw err
      // Not a benchmark figure but a finding: say what is left in the rings, and leave the round out.
      return { lost: `${err.message}; rings left: ${ringsLeft(runtimePaths('bench', env).memoryDir)}` }
    }
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6
    const collectorUs = cpuUsOf(collector.pid) - collectorBefore
    return { wallMs, producerUs, collectorUs }
  } finally {
    await collector?.stop()
    rmSync(base, { recursive: true, force: true })
    rmSync(shm, { recursive: true, force: true })
  }
}

function ringsLeft(dir) {
  if (!existsSync(dir)) return 'none'
  const rings = readdirSync(dir).map((name) => `${name} (${statSync(join(dir, name)).size} B)`)
  return rings.join(', ') || 'none'
}

/** Leaves out rounds that did not complete, saying so. */
export function completed(runs, name) {
  for (const run of runs)
    if (run.lost) console.log(`  ! ${name}: a round did not complete, left out: ${run.lost}`)
  return runs.filter((run) => !run.lost)
}

export async function pinoRun({ producers, perProducer }) {
  const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-pino-'))
  try {
    const start = process.hrtime.bigint()
    const producerUs = await producersCpu('pino-transport', producers, perProducer, {}, (i) =>
      join(dir, `p${i}.log`),
    )
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6
    let lines = 0
    for (let i = 0; i < producers; i++) lines += lineCounter(join(dir, `p${i}.log`))()
    if (lines !== producers * perProducer)
      throw new Error(`pino.transport: ${lines} of ${producers * perProducer} lines written`)
    return { wallMs, producerUs, collectorUs: 0 }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Medians of rounds of `total` entries: wall ms, and CPU ns per entry in all, of the producers and of the collector. */
export function summarize(list, total) {
  return {
    wallMs: median(list.map((x) => x.wallMs)),
    cpuNs: median(list.map((x) => ((x.producerUs + x.collectorUs) * 1000) / total)),
    producerNs: median(list.map((x) => (x.producerUs * 1000) / total)),
    collectorNs: median(list.map((x) => (x.collectorUs * 1000) / total)),
  }
}

export async function composeEndToEnd({ quick }) {
  const producers = 4
  const perProducer = quick ? 50_000 : 250_000
  const rounds = quick ? 2 : 3
  const total = producers * perProducer
  const runs = { logkit: [], pino: [] }
  for (let r = 0; r < rounds; r++) {
    runs.logkit.push(await composeRun({ producers, perProducer }))
    runs.pino.push(await pinoRun({ producers, perProducer }))
  }
  const summary = (list) => summarize(list, total)
  const done = completed(runs.logkit, 'logkit compose')
  if (done.length === 0) return console.log('  logkit compose: no round completed (above), no figures')
  const logkit = summary(done)
  const pino = summary(runs.pino)
  console.log(
    `${producers} producer processes × ${perProducer.toLocaleString('en')} entries, ${rounds} alternating rounds, median:`,
  )
  const row = (name, s) =>
    console.log(
      `  ${name.padEnd(46)} ${s.wallMs.toFixed(0).padStart(6)} ms  ${formatRate((total / s.wallMs) * 1000).padStart(9)} entries/s  ${(pino.wallMs / s.wallMs).toFixed(2)}× pino.transport throughput  CPU ${s.cpuNs.toFixed(0).padStart(5)} ns/entry (producers ${s.producerNs.toFixed(0)}, collector ${s.collectorNs.toFixed(0)})  ${(s.cpuNs / pino.cpuNs).toFixed(2)}× pino.transport CPU`,
    )
  row('logkit compose (shm → file, json, defaults)', logkit)
  row('pino.transport(pino/file), file per process', pino)
  console.log('  goals: CPU per entry ≤ 0.33× pino.transport; wall-clock throughput ≥ 2.5× pino.transport')
}
