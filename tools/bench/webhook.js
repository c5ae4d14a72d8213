// The webhook sink into a local HTTP server (in a child process, so that its
// CPU is not the collector's): NDJSON, requests of 1,000 entries, from
// entries (write) and from the byte path (writeEntries, rendered lines copied
// from frames), beside the file sink writing the same batches for context.
// Reports entries/s and the collector's CPU per entry (user + system of this
// process), medians of interleaved rounds; the server counts every line it
// receives, and a round that lost one fails the run.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { FrameEncoder } from '@logkit/core'
import { EntryBatch, EntryIndex } from '@logkit/core/wire'
import { createFileSink } from '@logkit/sink-file'
import { createWebhookSink } from '@logkit/sink-webhook'
import { requestEntry } from './contenders.js'
import { formatRate, median } from './measure.js'

const BATCH = 1000

// The server: counts the lines of every body, answers 200; GET /count says how many so far.
const SERVER = `
const http = require('node:http')
let lines = 0
const server = http.createServer((req, res) => {
  if (req.method === 'GET') return res.end(String(lines))
  req.on('data', (c) => { for (let i = 0; i < c.length; i++) if (c[i] === 10) lines++ })
  req.on('end', () => res.end('ok'))
})
server.keepAliveTimeout = 10000
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
`

async function startServer() {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve))
  const base = `http://127.0.0.1:${port}`
  return {
    url: `${base}/ingest`,
    count: async () => Number(await (await fetch(`${base}/count`)).text()),
    stop: () => child.kill(),
  }
}

function batchOf(entries) {
  const encoder = new FrameEncoder({ maxFrameSize: 16 * 1024 * 1024 })
  const frames = []
  for (let i = 0; i < entries.length; i += 100)
    frames.push(Buffer.from(encoder.batch(entries.slice(i, i + 100))))
  const index = new EntryIndex()
  index.index(Buffer.concat(frames))
  return EntryBatch.of(index)
}

export const webhookScenario = {
  name: 'webhook',
  title: 'webhook sink: NDJSON into a local HTTP server, requests of 1,000 entries (collector CPU per entry)',
  async run({ quick }) {
    const n = quick ? 20_000 : 200_000
    const rounds = quick ? 3 : 7
    const entries = Array.from({ length: BATCH }, (_, i) => requestEntry(i + 1))
    const batch = batchOf(entries)
    const server = await startServer()
    const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-webhook-'))
    const options = { url: server.url, preset: 'ndjson', batch: { maxEntries: BATCH, maxWaitMs: 0 } }
    const contenders = [
      {
        name: 'webhook write(entries)',
        make: () => createWebhookSink(options),
        write: (s) => s.write(entries),
      },
      {
        name: 'webhook writeEntries(bytes)',
        make: () => createWebhookSink(options),
        write: (s) => s.writeEntries([batch]),
      },
      {
        name: 'file sink writeEntries (context)',
        make: () => createFileSink({ path: join(dir, `out-${Date.now()}.log`), fsync: 'never' }),
        write: (s) => s.writeEntries([batch]),
      },
    ]
    const samples = new Map(contenders.map((c) => [c.name, { wall: [], cpu: [] }]))
    try {
      for (let r = -1; r < rounds; r++) {
        for (const c of contenders) {
          const sink = c.make()
          const before = await server.count()
          const cpu = process.cpuUsage()
          const start = process.hrtime.bigint()
          for (let i = 0; i < n; i += BATCH) await c.write(sink)
          await sink.flush()
          const wall = Number(process.hrtime.bigint() - start) / n
          const used = process.cpuUsage(cpu)
          await sink.close()
          if (c.name.startsWith('webhook')) {
            const got = (await server.count()) - before
            if (got !== n) throw new Error(`${c.name}: the server received ${got} of ${n} entries`)
          }
          if (r >= 0) {
            samples.get(c.name).wall.push(wall)
            samples.get(c.name).cpu.push(((used.user + used.system) * 1000) / n)
          }
        }
      }
    } finally {
      server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
    const width = Math.max(...contenders.map((c) => c.name.length))
    for (const c of contenders) {
      const s = samples.get(c.name)
      const wall = median(s.wall)
      console.log(
        `  ${c.name.padEnd(width)}  ${formatRate(1e9 / wall).padStart(10)} entries/s  collector CPU ${median(s.cpu).toFixed(0).padStart(5)} ns/entry`,
      )
    }
    console.log(`  (${n} entries a round, median of ${rounds}; every entry counted at the server)`)
  },
}
