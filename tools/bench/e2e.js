// End to end: 4 producer processes log through a transport into one
// collector (or, for pino and winston, each into its own file), timed from
// spawning the producers until every entry has arrived. Also the CPU an idle
// collector burns.

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createPipeline, runtimePaths } from '@logkit/core'
import { createFileSink } from '@logkit/sink-file'
import { createShmSource, RING_SUFFIX, Ring } from '@logkit/transport-shm'
import { formatRate, median } from './measure.js'

const producerScript = fileURLToPath(new URL('./fixtures/producer.mjs', import.meta.url))

export function freshEnv() {
  const base = mkdtempSync(join(tmpdir(), 'logkit-bench-'))
  const shm = mkdtempSync(join('/dev/shm', 'logkit-bench-'))
  return { base, env: { LOGKIT_RUNTIME_DIR: join(base, 'run'), LOGKIT_SHM_DIR: shm }, shm }
}

function runProducer(env, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [producerScript, ...args.map(String)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    })
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`producer ${args.join(' ')} exited ${code}`)),
    )
  })
}

export function countingSink() {
  let count = 0
  const sink = {
    write(batch) {
      for (const e of batch) if (e.source !== 'logkit') count++
    },
  }
  return { sink, count: () => count }
}

/**
 * A collector in this process, `kind` source into a counting sink (which
 * decodes every entry) or into the file sink alone (which renders them from
 * their bytes); resolves the elapsed ms once `total` entries arrived, and the
 * collector's CPU per entry (this process's: the producers are children).
 */
async function logkitRun({ producers, perProducer, kind, sinkKind }) {
  const { base, env, shm } = freshEnv()
  const total = producers * perProducer
  const counter = countingSink()
  const queue = { capacity: 20_000, maxBatch: 2000 }
  const sinks =
    sinkKind === 'file'
      ? [{ id: 'file', sink: createFileSink({ path: join(base, 'logs', 'bench.log'), mkdir: true }), queue }]
      : [{ id: 'count', sink: counter.sink, queue }]
  const source =
    kind === 'shm'
      ? { id: 'shm', create: (ctx) => createShmSource('bench', { env }, ctx) }
      : { id: 'fifo', create: await fifoSourceFactory(env) }
  const pipeline = createPipeline({ app: 'bench', sources: [source], sinks, diagnosticEntries: false })
  const arrived = sinkKind === 'file' ? () => pipeline.stats().sinks[0].written : counter.count
  const cpu = process.cpuUsage()
  await pipeline.start()
  const start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: producers }, (_, i) => runProducer(env, [kind, perProducer, `p${i}`])),
  )
  // Bounded: entries that stop arriving for 30 s end the run with an error, not a hang.
  let last = -1
  let since = Date.now()
  while (arrived() < total) {
    if (arrived() !== last) {
      last = arrived()
      since = Date.now()
    } else if (Date.now() - since > 30_000) {
      await pipeline.close()
      throw new Error(`e2e ${kind}: ${last} of ${total} entries arrived, then none for 30 s`)
    }
    await new Promise((r) => setTimeout(r, 2))
  }
  if (sinkKind === 'file') await pipeline.flush()
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6
  const used = process.cpuUsage(cpu)
  await pipeline.close()
  rmSync(base, { recursive: true, force: true })
  rmSync(shm, { recursive: true, force: true })
  return { ms: elapsed, cpuNs: ((used.user + used.system) * 1000) / total }
}

/**
 * The bound of any collector's run: the same shm producers, read by a
 * consumer that does nothing per entry (it moves each ring's HEAD to its TAIL
 * as soon as it looks, decoding nothing).
 */
async function producersAlone({ producers, perProducer }) {
  const { base, env, shm } = freshEnv()
  const dir = runtimePaths('bench', env).memoryDir
  const rings = new Map()
  let running = true
  const consume = () => {
    if (!running) return
    for (const name of existsSync(dir) ? readdirSync(dir) : []) {
      if (name.endsWith(RING_SUFFIX) && !rings.has(name)) {
        try {
          rings.set(name, Ring.open(join(dir, name)))
        } catch {} // not initialised yet: next look
      }
    }
    for (const ring of rings.values()) ring.setHead(ring.tail)
    setTimeout(consume, 1)
  }
  const start = process.hrtime.bigint()
  consume()
  try {
    await Promise.all(
      Array.from({ length: producers }, (_, i) => runProducer(env, ['shm', perProducer, `p${i}`])),
    )
    return Number(process.hrtime.bigint() - start) / 1e6
  } finally {
    running = false
    rmSync(base, { recursive: true, force: true })
    rmSync(shm, { recursive: true, force: true })
  }
}

async function fifoSourceFactory(env) {
  const mod = await import('@logkit/transport-fifo')
  return (ctx) => mod.createFifoSource({ app: 'bench', env }, ctx)
}

async function perFileRun({ producers, perProducer, kind }) {
  const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-files-'))
  const start = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: producers }, (_, i) =>
      runProducer({}, [kind, perProducer, `p${i}`, join(dir, `p${i}.log`)]),
    ),
  )
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6
  let lines = 0
  for (let i = 0; i < producers; i++)
    lines += readFileSync(join(dir, `p${i}.log`), 'utf8').split('\n').length - 1
  rmSync(dir, { recursive: true, force: true })
  if (lines !== producers * perProducer)
    throw new Error(`${kind}: ${lines} of ${producers * perProducer} lines written`)
  return elapsed
}

async function available(name) {
  try {
    await import(name)
    return true
  } catch {
    return false
  }
}

export async function endToEnd({ quick }) {
  const producers = 4
  const perProducer = quick ? 50_000 : 250_000
  const rounds = quick ? 1 : 3
  const total = producers * perProducer
  const contenders = [
    { name: 'logkit shm → collector (count)', run: () => logkitRun({ producers, perProducer, kind: 'shm' }) },
    {
      name: 'logkit shm → collector → file',
      run: () => logkitRun({ producers, perProducer, kind: 'shm', sinkKind: 'file' }),
    },
  ]
  if (await available('@logkit/transport-fifo')) {
    contenders.push(
      {
        name: 'logkit fifo → collector (count)',
        run: () => logkitRun({ producers, perProducer, kind: 'fifo' }),
      },
      {
        name: 'logkit fifo → collector → file',
        run: () => logkitRun({ producers, perProducer, kind: 'fifo', sinkKind: 'file' }),
      },
    )
  }
  contenders.push(
    {
      name: 'bound: shm producers, a consumer that decodes nothing',
      run: () => producersAlone({ producers, perProducer }),
    },
    {
      name: 'pino.transport(pino/file), file per process',
      run: () => perFileRun({ producers, perProducer, kind: 'pino-transport' }),
    },
    {
      name: 'winston File transport, file per process',
      run: () => perFileRun({ producers, perProducer, kind: 'winston-file' }),
    },
  )
  const samples = new Map(contenders.map((c) => [c.name, []]))
  const collectorCpu = new Map(contenders.map((c) => [c.name, []]))
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) {
      const run = await c.run()
      samples.get(c.name).push(typeof run === 'number' ? run : run.ms)
      if (typeof run !== 'number') collectorCpu.get(c.name).push(run.cpuNs)
    }
  }
  console.log(
    `${producers} producer processes × ${perProducer.toLocaleString('en')} entries, ${rounds} round(s), median:`,
  )
  const base = median(samples.get('pino.transport(pino/file), file per process'))
  const width = Math.max(...contenders.map((c) => c.name.length))
  for (const c of contenders) {
    const ms = median(samples.get(c.name))
    const cpu = collectorCpu.get(c.name)
    const collector = cpu.length > 0 ? `  collector ${median(cpu).toFixed(0).padStart(5)} ns/entry CPU` : ''
    console.log(
      `  ${c.name.padEnd(width)}  ${ms.toFixed(0).padStart(6)} ms  ${formatRate((total / ms) * 1000).padStart(10)} entries/s  ${(base / ms).toFixed(2)}× pino.transport${collector}`,
    )
  }
  console.log(
    '  goals: shm ≥ 3× pino.transport end to end (count and file); fifo ≥ 2×; fifo → file collector ≤ 500 ns/entry',
  )
  console.log(
    '  (count: a sink with write() only, so every entry is decoded; file: the file sink alone, rendering from bytes)',
  )
  console.log(
    '  (bound: the same shm producers, their rings emptied unread; no collector that reads its entries can beat it on this machine)',
  )
  await idleCpu({ quick })
}

async function idleCpu({ quick }) {
  const { env, shm } = freshEnv()
  mkdirSync(env.LOGKIT_RUNTIME_DIR, { recursive: true })
  const counter = countingSink()
  const pipeline = createPipeline({
    app: 'bench',
    sources: [{ id: 'shm', create: (ctx) => createShmSource('bench', { env }, ctx) }],
    sinks: [counter.sink],
    diagnosticEntries: false,
  })
  await pipeline.start()
  // One producer that logged and now idles, so the collector has a ring to watch.
  await runProducer(env, ['shm', 1000, 'idler'])
  await new Promise((r) => setTimeout(r, 300))
  const ms = quick ? 2000 : 5000
  const before = process.cpuUsage()
  await new Promise((r) => setTimeout(r, ms))
  const used = process.cpuUsage(before)
  const percent = ((used.user + used.system) / 1000 / ms) * 100
  console.log(`  idle collector CPU: ${percent.toFixed(2)} % over ${ms / 1000} s (goal < 1 %)`)
  await pipeline.close()
  rmSync(shm, { recursive: true, force: true })
}
