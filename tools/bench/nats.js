// Host → NATS JetStream → central, through a local nats-server (a child
// process, so its CPU is not the collectors'): the host side's NATS sink
// publishing batches of 1,000 entries from the byte path (writeEntries, as a
// collector reading shm rings does) until JetStream has acknowledged them, then
// the central side's NATS source reading them back through a pipeline into a
// counting sink (byte path too), with `frames` and `ndjson` encodings. Reports
// entries/s and CPU per entry of each side (user + system of this process),
// medians of interleaved rounds; every entry is counted at the central sink.
// Needs nats-server on the PATH (Debian: apt-get install nats-server).

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPipeline, FrameEncoder } from '@logkit/core'
import { EntryBatch, EntryIndex } from '@logkit/core/wire'
import { createNatsSink, createNatsSource, natsSinkOptions, natsSourceOptions } from '@logkit/transport-nats'
import { requestEntry } from './contenders.js'
import { formatRate, median } from './measure.js'

const BATCH = 1000

async function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

async function startServer(dir) {
  const port = await freePort()
  const config = join(dir, 'server.conf')
  writeFileSync(
    config,
    `listen: 127.0.0.1:${port}\njetstream { store_dir: "${join(dir, 'js')}", max_file_store: 4GB }\n`,
  )
  const child = spawn('nats-server', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  await new Promise((resolve, reject) => {
    let log = ''
    child.stderr.on('data', (d) => {
      log += d
      if (log.includes('Server is ready')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${log}`)))
    child.once('error', reject)
  })
  return { url: `nats://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') }
}

/** `count` batches of BATCH entries as bytes, seqs continuing from batch to batch (distinct message ids). */
function batches(count) {
  const encoder = new FrameEncoder({ maxFrameSize: 16 * 1024 * 1024 })
  const out = []
  for (let b = 0; b < count; b++) {
    const entries = Array.from({ length: BATCH }, (_, i) => requestEntry(b * BATCH + i + 1, 4242))
    const index = new EntryIndex()
    index.index(Buffer.from(encoder.batch(entries)))
    out.push(EntryBatch.of(index))
  }
  return out
}

const noop = () => {}

async function publish(url, stream, encoding, input) {
  const sink = createNatsSink(
    natsSinkOptions.parse({
      servers: url,
      encoding,
      subject: `${stream.toLowerCase()}.{app}.{source}`,
      stream: { name: stream, subjects: [`${stream.toLowerCase()}.>`] },
    }),
    { report: noop },
  )
  await sink.writeEntries([input[0]]) // connect and make the stream before timing
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  for (let i = 1; i < input.length; i++) await sink.writeEntries([input[i]])
  const ns = Number(process.hrtime.bigint() - start)
  const used = process.cpuUsage(cpu)
  await sink.close()
  const n = (input.length - 1) * BATCH
  return { wall: ns / n, cpu: ((used.user + used.system) * 1000) / n }
}

async function consume(url, stream, total) {
  let count = 0
  let done
  const finished = new Promise((resolve) => (done = resolve))
  const sink = {
    write: (entries) => {
      count += entries.length
      if (count >= total) done()
    },
    writeEntries: (list) => {
      for (const b of list) count += b.length
      if (count >= total) done()
    },
  }
  const pipeline = createPipeline({
    id: 'central',
    diagnosticEntries: false,
    sources: [
      {
        id: 'nats',
        create: (ctx) =>
          createNatsSource(
            natsSourceOptions.parse({ servers: url, stream, durable: 'bench', maxAckPending: 1024 }),
            ctx,
          ),
      },
    ],
    sinks: [sink],
  })
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  await pipeline.start()
  await finished
  const ns = Number(process.hrtime.bigint() - start)
  const used = process.cpuUsage(cpu)
  await pipeline.close()
  if (count !== total) throw new Error(`central counted ${count} of ${total} entries`)
  return { wall: ns / total, cpu: ((used.user + used.system) * 1000) / total }
}

export const natsScenario = {
  name: 'nats',
  title:
    'host → NATS JetStream → central: publish acknowledged batches, read them back (CPU per entry of each side)',
  async run({ quick }) {
    const count = quick ? 50 : 200
    const rounds = quick ? 2 : 5
    const input = batches(count + 1)
    const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-nats-'))
    const server = await startServer(dir)
    const encodings = ['frames', 'ndjson']
    const samples = new Map(encodings.map((e) => [e, { host: [], hostCpu: [], central: [], centralCpu: [] }]))
    let streams = 0
    try {
      for (let r = -1; r < rounds; r++) {
        for (const encoding of encodings) {
          const stream = `BENCH${++streams}`
          const host = await publish(server.url, stream, encoding, input)
          const central = await consume(server.url, stream, (count + 1) * BATCH)
          if (r < 0) continue
          const s = samples.get(encoding)
          s.host.push(host.wall)
          s.hostCpu.push(host.cpu)
          s.central.push(central.wall)
          s.centralCpu.push(central.cpu)
        }
      }
    } finally {
      server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    for (const encoding of encodings) {
      const s = samples.get(encoding)
      console.log(
        `  ${encoding.padEnd(7)} host sink ${formatRate(1e9 / median(s.host)).padStart(10)} entries/s, CPU ${median(s.hostCpu).toFixed(0).padStart(5)} ns/entry   central source ${formatRate(1e9 / median(s.central)).padStart(10)} entries/s, CPU ${median(s.centralCpu).toFixed(0).padStart(5)} ns/entry`,
      )
    }
    console.log(
      `  (${count * BATCH} entries published a round in writes of ${BATCH}, read back by a durable pull consumer; median of ${rounds}; nats-server's own CPU not counted)`,
    )
  },
}
