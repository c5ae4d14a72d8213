// Producer start-up: the CPU (user + system) of a whole `node -e` process that
// only imports what a worker imports, paired with `node -e "require('pino')"`
// and a bare `node -e 0` in the same round, in turn. A preloaded module
// (fixtures/exit-cpu.cjs) prints process.cpuUsage() when the process exits:
// getrusage of the whole process from exec on, all threads; only the last
// steps of exiting are missed, the same for every contender.

import { median } from './measure.js'
import { fixture, reportedCpuUs, runNode } from './procs.js'

const esm = (code) => ['--input-type=module', '-e', code]

const contenders = [
  { name: 'bare node -e 0', args: ['-e', '0'] },
  { name: "pino: require('pino')", args: ['-e', "require('pino')"] },
  {
    // What the README, the package READMEs and examples/demo tell a worker to import.
    name: 'README path: @logkit/core/producer + @logkit/transport-shm/producer',
    args: esm(
      "import { createLogger } from '@logkit/core/producer'; import { shm } from '@logkit/transport-shm/producer'",
    ),
  },
  {
    name: 'README path, fifo: @logkit/core/producer + @logkit/transport-fifo/producer',
    args: esm(
      "import { createLogger } from '@logkit/core/producer'; import { fifo } from '@logkit/transport-fifo/producer'",
    ),
  },
  {
    name: 'main entry points: @logkit/core + @logkit/transport-shm (the collector’s)',
    args: esm("import { createLogger } from '@logkit/core'; import { shm } from '@logkit/transport-shm'"),
  },
  { name: 'bare ESM: node --input-type=module -e 0', args: esm('0') },
]

export async function producerStartup({ quick }) {
  const rounds = quick ? 5 : 10
  const preload = fixture('exit-cpu.cjs')
  const cwd = new URL('.', import.meta.url).pathname // resolves @logkit/* and pino as a worker of this repo would
  const samples = new Map(contenders.map((c) => [c.name, []]))
  for (let r = -1; r < rounds; r++) {
    for (const c of contenders) {
      const { stdout } = await runNode(['--require', preload, ...c.args], { cwd, timeoutMs: 30_000 })
      if (r >= 0) samples.get(c.name).push(reportedCpuUs(stdout) / 1000)
    }
  }
  const ms = new Map([...samples].map(([name, runs]) => [name, median(runs)]))
  const bare = ms.get('bare node -e 0')
  const pinoMs = ms.get("pino: require('pino')")
  console.log(
    `CPU (user + system) of the whole process, median of ${rounds} paired runs (after one warm-up); "net" subtracts bare node -e 0:`,
  )
  const width = Math.max(...contenders.map((c) => c.name.length))
  for (const c of contenders) {
    const total = ms.get(c.name)
    const net = total - bare
    const ratio = c.name.startsWith('bare node -e') ? '' : `  ${(net / (pinoMs - bare)).toFixed(2)}× pino net`
    console.log(
      `  ${c.name.padEnd(width)}  ${total.toFixed(1).padStart(6)} ms  net ${net.toFixed(1).padStart(6)} ms  ${(total / pinoMs).toFixed(2)}× pino whole${ratio}`,
    )
  }
  console.log('  goal: what a worker is told to import costs no more than loading pino (net ratio ≤ 1.00)')
  console.log('  (the bare ESM row is the cost of starting the ESM loader, which every @logkit import pays)')
}
