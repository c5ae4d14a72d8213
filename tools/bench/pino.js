// @logkit/pino (issue 13): pino users' ways into logkit, side by side with
// pino's own.
//
// - Per call, in this process: pino + logkitDestination (a fresh ring per
//   round, large enough for it: nothing dropped, no collector), pino +
//   pino.transport(pino/file), pino + its sync destination on /dev/null (the
//   floor: pino's serialization and a write), pino + a destination that only
//   copies each line into memory (what any destination that keeps a line
//   through a SIGKILL must at least do on the calling thread: the bound of
//   "well under pino.transport", docs/benchmarks.md), and logkit's own
//   createLogger + shm (what skipping pino buys).
// - End to end, 4 processes × 250,000 entries: pino + logkitDestination into
//   `logkit compose` (shm → file), pino + pino.transport(pino/file) (a file
//   per process), logkit's createLogger + shm into compose; alternating rounds,
//   wall clock and CPU per entry (producers' own process.cpuUsage(), the
//   collector's from /proc).

import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runtimePaths } from '@logkit/core'
import { logkitDestination } from '@logkit/pino'
import pino from 'pino'
import { completed, composeRun, pinoRun, summarize } from './compose.js'
import { fields, message, pinoTransportContender, shmContender } from './contenders.js'
import { compare, formatRate, report } from './measure.js'

const RING = 64 * 1024 * 1024

export async function pinoScenario({ quick }) {
  await perCall(quick)
  await endToEnd(quick)
}

async function perCall(quick) {
  const size = { n: quick ? 20_000 : 100_000, rounds: quick ? 5 : 11 }
  const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-pino-'))
  const shmDir = mkdtempSync(join('/dev/shm', 'logkit-bench-'))
  const env = { LOGKIT_RUNTIME_DIR: join(dir, 'run'), LOGKIT_SHM_DIR: shmDir }
  const rings = () => runtimePaths('bench', env).memoryDir
  // No collector reads these rings: each round's is removed once it is done.
  const removeRings = () => {
    for (const name of readdirSync(rings())) unlinkSync(join(rings(), name))
  }
  const viaTransport = pinoTransportContender('pino + pino.transport(pino/file)', join(dir, 'transport.log'))
  const pinoNull = pino(pino.destination({ dest: '/dev/null', sync: true }))
  const memory = Buffer.alloc(64 * 1024)
  let copied = 0
  const pinoCopy = pino({
    writable: true,
    write: (line) => {
      copied += memory.write(line, 0)
      return true
    },
  })
  const results = await compare(
    [
      {
        name: 'pino + logkitDestination',
        setup: () => {
          const dest = logkitDestination({ app: 'bench', source: 'http', capacity: RING, env })
          return { dest, log: pino(dest) }
        },
        round: (n, { log }) => {
          for (let i = 0; i < n; i++) log.info(fields, message)
        },
        teardown: async ({ dest }) => {
          if (dest.stats.dropped > 0) throw new Error('bench ring dropped entries')
          dest.end()
          await new Promise((resolve) => dest.once('close', resolve))
          removeRings()
        },
      },
      viaTransport,
      {
        name: 'pino + sync destination (/dev/null)',
        round: (n) => {
          for (let i = 0; i < n; i++) pinoNull.info(fields, message)
        },
      },
      {
        name: 'pino + a copy of each line into memory',
        round: (n) => {
          for (let i = 0; i < n; i++) pinoCopy.info(fields, message)
        },
      },
      shmContender('logkit createLogger + shm (no pino)', env, RING),
    ],
    size,
  )
  if (copied === 0) throw new Error('the copying destination copied nothing')
  console.log(`per call: log.info({ reqId, userId, path }, '${message}')`)
  report(results, {
    baseline: 'pino + sync destination (/dev/null)',
    note: 'goal (issue 13): pino + logkitDestination ≤ 1.00× pino’s sync /dev/null destination, and well under pino.transport',
  })
  const dest = results.find((r) => r.name === 'pino + logkitDestination')
  const transport = results.find((r) => r.name === 'pino + pino.transport(pino/file)')
  const copy = results.find((r) => r.name === 'pino + a copy of each line into memory')
  console.log(
    `  pino + logkitDestination: ${(dest.nsPerOp / transport.nsPerOp).toFixed(2)}× pino.transport per call; the copy alone (the floor of a crash-safe destination): ${(copy.nsPerOp / transport.nsPerOp).toFixed(2)}×`,
  )
  viaTransport.end()
  rmSync(dir, { recursive: true, force: true })
  rmSync(shmDir, { recursive: true, force: true })
}

async function endToEnd(quick) {
  const producers = 4
  const perProducer = quick ? 50_000 : 250_000
  const rounds = quick ? 1 : 3
  const total = producers * perProducer
  const runs = { dest: [], transport: [], logkit: [] }
  for (let r = 0; r < rounds; r++) {
    runs.dest.push(await composeRun({ producers, perProducer, kind: 'pino-logkit' }))
    runs.transport.push(await pinoRun({ producers, perProducer }))
    runs.logkit.push(await composeRun({ producers, perProducer }))
  }
  const summary = (list) => summarize(list, total)
  const dest = completed(runs.dest, 'pino + logkitDestination')
  const logkit = completed(runs.logkit, 'createLogger + shm')
  if (dest.length === 0 || logkit.length === 0)
    return console.log('  a kind had no complete round (above): no figures')
  const pinoT = summary(runs.transport)
  console.log(
    `end to end: ${producers} producer processes × ${perProducer.toLocaleString('en')} entries → a file, ${rounds} alternating rounds, median:`,
  )
  const row = (name, s) =>
    console.log(
      `  ${name.padEnd(52)} ${s.wallMs.toFixed(0).padStart(6)} ms  ${formatRate((total / s.wallMs) * 1000).padStart(9)} entries/s  ${(pinoT.wallMs / s.wallMs).toFixed(2)}× pino.transport throughput  CPU ${s.cpuNs.toFixed(0).padStart(5)} ns/entry (producers ${s.producerNs.toFixed(0)}, collector ${s.collectorNs.toFixed(0)})  ${(s.cpuNs / pinoT.cpuNs).toFixed(2)}× CPU`,
    )
  row('pino + logkitDestination → logkit compose', summary(dest))
  row('pino + pino.transport(pino/file), file per process', pinoT)
  row('logkit createLogger + shm → logkit compose', summary(logkit))
  console.log('  goal (issue 13): pino + logkitDestination ≥ 1.5× pino.transport throughput')
}
