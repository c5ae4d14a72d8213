// The http sink (the live web view): the collector's CPU per entry for
// write(), with no browser, with browsers that read (SSE streams in a child
// process, so that their CPU is not the collector's), and with one browser
// that never reads (a raw socket: its queue fills, it is dropped to the tail),
// beside the file sink writing the same batches for context. Medians of
// interleaved rounds; the readers count every entry and every `missed`, and a
// round whose readers account for fewer than all entries fails the run.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createFileSink } from '@logkit/sink-file'
import { createHttpSink } from '@logkit/sink-http'
import { requestEntry } from './contenders.js'
import { formatRate, median } from './measure.js'

const BATCH = 1000
const READERS = 4

// READERS streams of /events; each line on stdin is answered with "entries missed" summed over them.
const READER = `
const http = require('node:http')
const [url, n] = process.argv.slice(1)
let entries = 0, missed = 0, open = 0
for (let k = 0; k < Number(n); k++) {
  http.get(url, (res) => {
    open++
    if (open === Number(n)) console.log('open')
    let tail = ''
    res.setEncoding('utf8').on('data', (chunk) => {
      const text = tail + chunk
      let at = 0
      for (;;) {
        const e = text.indexOf('event: entry\\n', at)
        if (e === -1) break
        entries++
        at = e + 1
      }
      for (const m of text.matchAll(/event: missed\\ndata: \\{"count":(\\d+)/g)) missed += Number(m[1])
      tail = text.slice(-40)
    })
  })
}
require('node:readline').createInterface({ input: process.stdin }).on('line', () => console.log(entries + ' ' + missed))
`

async function startReaders(url, n) {
  const child = spawn(process.execPath, ['-e', READER, url, String(n)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })
  const next = () => new Promise((resolve) => lines.once('line', resolve))
  await next() // open
  return {
    async count() {
      child.stdin.write('count\n')
      const [entries, missed] = (await next()).split(' ').map(Number)
      return entries + missed
    },
    stop: () => child.kill(),
  }
}

export const webViewScenario = {
  name: 'web',
  title:
    'http sink (live web view): collector CPU per entry of write(), with no browser, 4 reading, 1 stalled',
  async run({ quick }) {
    const n = quick ? 20_000 : 200_000
    const rounds = quick ? 3 : 7
    const entries = Array.from({ length: BATCH }, (_, i) => requestEntry(i + 1))
    const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-web-'))
    const views = {
      none: await createHttpSink({ port: 0, history: 1000 }),
      reading: await createHttpSink({ port: 0, history: 0 }),
      stalled: await createHttpSink({ port: 0, history: 0, clientQueue: 1000 }),
    }
    const readers = await startReaders(`${views.reading.server.url}events`, READERS)
    const stalled = connect(views.stalled.server.port, '127.0.0.1')
    stalled.pause()
    stalled.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const yieldTurn = () => new Promise((resolve) => setImmediate(resolve))
    const contenders = [
      { name: 'http sink, no browser', sink: () => views.none },
      { name: `http sink, ${READERS} browsers reading`, sink: () => views.reading, readers },
      { name: 'http sink, 1 browser stalled', sink: () => views.stalled },
      {
        name: 'file sink write (context)',
        sink: () => createFileSink({ path: join(dir, `out-${Date.now()}.log`), fsync: 'never' }),
        close: true,
      },
    ]
    const samples = new Map(contenders.map((c) => [c.name, { wall: [], cpu: [] }]))
    try {
      for (let r = -1; r < rounds; r++) {
        for (const c of contenders) {
          const sink = c.sink()
          const before = c.readers === undefined ? 0 : await c.readers.count()
          const cpu = process.cpuUsage()
          const start = process.hrtime.bigint()
          for (let i = 0; i < n; i += BATCH) {
            await sink.write(entries)
            await yieldTurn() // let sockets drain as they would between batches of a pipeline
          }
          await sink.flush?.()
          if (c.readers !== undefined) {
            // Every entry is either delivered or told as missed to each reader.
            while ((await c.readers.count()) - before < READERS * n) await yieldTurn()
          }
          const wall = Number(process.hrtime.bigint() - start) / n
          const used = process.cpuUsage(cpu)
          if (c.close) await sink.close()
          if (r >= 0) {
            samples.get(c.name).wall.push(wall)
            samples.get(c.name).cpu.push(((used.user + used.system) * 1000) / n)
          }
        }
      }
    } finally {
      readers.stop()
      stalled.destroy()
      for (const v of Object.values(views)) await v.close()
      rmSync(dir, { recursive: true, force: true })
    }
    const width = Math.max(...contenders.map((c) => c.name.length))
    for (const c of contenders) {
      const s = samples.get(c.name)
      console.log(
        `  ${c.name.padEnd(width)}  ${formatRate(1e9 / median(s.wall)).padStart(10)} entries/s  collector CPU ${median(s.cpu).toFixed(0).padStart(5)} ns/entry`,
      )
    }
    console.log(
      `  (${n} entries a round, median of ${rounds}; the readers accounted for every entry, delivered or told as missed)`,
    )
  },
}
