// The scenarios. Each one says what it measures and what the goal is.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import {
  createLogger,
  createMemoryChannel,
  decodeFrame,
  EntryFrameWriter,
  FrameDecoder,
  FrameEncoder,
} from '@logkit/core'
import { logkit } from '@logkit/core/proto'
import Long from 'long'
import pino from 'pino'
import winston from 'winston'
import { collectorDrain } from './collector.js'
import { collectorAllocation, collectorOperators } from './collector-ops.js'
import { composeEndToEnd } from './compose.js'
import { fields, message, pinoTransportContender, requestEntry, shmContender } from './contenders.js'
import { endToEnd } from './e2e.js'
import { latency } from './latency.js'
import { compare, report } from './measure.js'
import { natsScenario } from './nats.js'
import { pinoScenario } from './pino.js'
import { collectorRss } from './rss.js'
import { scaling } from './scaling.js'
import { producerStartup } from './startup.js'
import { webViewScenario } from './web-view.js'
import { webhookScenario } from './webhook.js'

const sizes = (quick) => ({ n: quick ? 20_000 : 100_000, rounds: quick ? 5 : 11 })

const codec = {
  name: 'codec',
  title: 'encode/decode one entry: logkit frames vs JSON.stringify/JSON.parse (and protobufjs for context)',
  async run({ quick }) {
    const size = sizes(quick)
    const entry = requestEntry(1)
    const encoder = new FrameEncoder()
    const writer = new EntryFrameWriter('bench', process.pid, 'bench-host')
    const noBindings = Buffer.alloc(0)
    const asJson = {
      level: 30,
      time: Date.now(),
      pid: process.pid,
      hostname: 'bench-host',
      name: 'http',
      app: 'bench',
      ...fields,
      msg: message,
    }
    const pbMessage = {
      batch: {
        entries: [
          {
            timeUnixNano: Long.fromString(entry.time.toString(), true),
            level: 30,
            severityNumber: 9,
            message,
            app: 'bench',
            source: 'http',
            pid: process.pid,
            hostname: 'bench-host',
            seq: Long.fromNumber(1, true),
            fieldsJson: Buffer.from(JSON.stringify(fields)),
          },
        ],
      },
    }
    let sink = 0
    const encodeResults = await compare(
      [
        {
          name: 'logkit FrameEncoder.entry',
          round: (n) => {
            for (let i = 0; i < n; i++) sink += encoder.entry(entry).length
          },
        },
        {
          name: 'logkit EntryFrameWriter (the logger’s: object → frame)',
          round: (n) => {
            for (let i = 0; i < n; i++)
              sink += writer.entry(Date.now(), 30, message, 'http', i + 1, noBindings, fields, '', 0)
          },
        },
        {
          name: 'JSON.stringify',
          round: (n) => {
            for (let i = 0; i < n; i++) sink += JSON.stringify(asJson).length
          },
        },
        {
          name: 'protobufjs encode',
          round: (n) => {
            for (let i = 0; i < n; i++) sink += logkit.v1.Frame.encode(pbMessage).finish().length
          },
        },
      ],
      size,
    )
    console.log('encode (entries/s; ratio of ns per entry):')
    report(encodeResults, { baseline: 'JSON.stringify' })

    const frame = Buffer.from(encoder.entry(entry))
    const payload = frame.subarray(12)
    const json = JSON.stringify(asJson)
    let count = 0
    const decoder = new FrameDecoder({
      onFrame: (f) => {
        count += f.type === 'batch' ? f.entries.length : 0
      },
    })
    const decodeResults = await compare(
      [
        {
          name: 'logkit decodeFrame',
          round: (n) => {
            for (let i = 0; i < n; i++) sink += decodeFrame(payload).type.length
          },
        },
        {
          name: 'logkit FrameDecoder (CRC + decode)',
          round: (n) => {
            for (let i = 0; i < n; i++) decoder.push(frame)
          },
        },
        {
          name: 'JSON.parse',
          round: (n) => {
            for (let i = 0; i < n; i++) sink += JSON.parse(json).level
          },
        },
        {
          name: 'protobufjs decode',
          round: (n) => {
            for (let i = 0; i < n; i++) sink += logkit.v1.Frame.decode(payload).batch.entries.length
          },
        },
      ],
      size,
    )
    console.log('decode:')
    report(decodeResults, { baseline: 'JSON.parse' })
    if (sink === 0 || count === 0) console.log('(nothing measured)')
  },
}

/** A Writable that throws everything away, for winston. */
function nullStream() {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb()
    },
  })
}

const producer = {
  name: 'producer',
  title: "per-call cost of log.info({ reqId, userId, path }, 'request completed')",
  async run({ quick }) {
    const size = sizes(quick)
    const pinoSync = pino(pino.destination({ dest: '/dev/null', sync: true }))
    const winstonLogger = winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: nullStream() })],
    })
    const results = await compare(
      [
        {
          name: 'logkit (in-process transport)',
          // A fresh channel per round, large enough that nothing is dropped.
          setup: () => {
            const channel = createMemoryChannel({ capacityBytes: 512 * 1024 * 1024 })
            return {
              channel,
              log: createLogger({ app: 'bench', source: 'http', transport: channel.transport }),
            }
          },
          round: (n, { log }) => {
            for (let i = 0; i < n; i++) log.info(fields, message)
          },
          teardown: ({ log }) => {
            if (log.stats.dropped > 0) throw new Error('bench transport dropped entries')
          },
        },
        {
          name: 'pino (sync destination, /dev/null)',
          round: (n) => {
            for (let i = 0; i < n; i++) pinoSync.info(fields, message)
          },
        },
        {
          name: 'winston (json, stream)',
          round: async (n) => {
            for (let i = 0; i < n; i++) winstonLogger.info(message, fields)
            await new Promise((r) => setImmediate(r))
          },
        },
      ],
      size,
    )
    report(results, {
      baseline: 'pino (sync destination, /dev/null)',
      note: 'goal: logkit per-call cost at most pino’s (ratio ≤ 1.00)',
    })
    const below = createLogger({ app: 'bench', transport: createMemoryChannel().transport, level: 'warn' })
    const belowPino = pino({ level: 'warn' }, pino.destination({ dest: '/dev/null', sync: true }))
    const disabled = await compare(
      [
        {
          name: 'logkit below level',
          round: (n) => {
            for (let i = 0; i < n; i++) below.info(fields, message)
          },
        },
        {
          name: 'pino below level',
          round: (n) => {
            for (let i = 0; i < n; i++) belowPino.info(fields, message)
          },
        },
      ],
      { n: size.n * 10, rounds: size.rounds },
    )
    console.log('a call below the level:')
    report(disabled, { baseline: 'pino below level' })
  },
}

const shmProducer = {
  name: 'shm',
  title: "per-call cost through shared memory: log.info({ reqId, userId, path }, 'request completed')",
  async run({ quick }) {
    const size = sizes(quick)
    const dir = mkdtempSync(join(tmpdir(), 'logkit-bench-shm-'))
    const shmDir = mkdtempSync(join('/dev/shm', 'logkit-bench-'))
    const env = { LOGKIT_RUNTIME_DIR: join(dir, 'run'), LOGKIT_SHM_DIR: shmDir }
    const viaTransport = pinoTransportContender('pino.transport(pino/file)', join(dir, 'transport.log'))
    const pinoFile = pino(pino.destination({ dest: join(dir, 'sync.log'), sync: true }))
    const results = await compare(
      [
        // A fresh ring per round, large enough for the round: no collector, nothing dropped.
        shmContender('logkit shm', env),
        viaTransport,
        {
          name: 'pino sync file destination',
          round: (n) => {
            for (let i = 0; i < n; i++) pinoFile.info(fields, message)
          },
        },
      ],
      size,
    )
    report(results, {
      baseline: 'pino.transport(pino/file)',
      note: 'goal (issue 12): logkit shm per-call cost at most 0.4 × pino.transport’s (ratio ≤ 0.40)',
    })
    viaTransport.end()
    rmSync(dir, { recursive: true, force: true })
    rmSync(shmDir, { recursive: true, force: true })
  },
}

const e2e = {
  name: 'e2e',
  title: 'end to end: 4 producer processes → collector, against pino.transport and winston into files',
  run: endToEnd,
}

const collector = {
  name: 'collector',
  title: 'the collector alone: draining filled rings into a counting sink, and into the file sink',
  run: collectorDrain,
}

const collectorOps = {
  name: 'collector-ops',
  title:
    'the collector into the file sink: no operators, filter (level) + rateLimit, filter on a field value',
  run: collectorOperators,
}

const collectorAlloc = {
  name: 'collector-alloc',
  title: 'bytes the collector allocates per entry (V8 sampling heap profiler)',
  run: collectorAllocation,
}

const scalingScenario = {
  name: 'scaling',
  title: 'logkit compose with 1 to 32 producer processes at a fixed total: collector CPU per entry',
  run: scaling,
}

const latencyScenario = {
  name: 'latency',
  title: 'log.info() → written to the file at 10,000 entries/s: p50, p99',
  run: latency,
}

const rss = {
  name: 'rss',
  title: 'logkit compose at 100,000 entries/s: its resident memory over the run',
  run: collectorRss,
}

const compose = {
  name: 'compose',
  title: 'end to end through logkit compose with its defaults, against pino.transport, alternating rounds',
  run: composeEndToEnd,
}

const startup = {
  name: 'startup',
  title: 'producer start-up: CPU of a whole node process that imports what a worker imports, against pino',
  run: producerStartup,
}

const pinoWays = {
  name: 'pino',
  title:
    '@logkit/pino: pino with logkitDestination against pino.transport and pino’s sync destination, per call and end to end',
  run: pinoScenario,
}

export const scenarios = [
  codec,
  producer,
  shmProducer,
  startup,
  collector,
  collectorOps,
  collectorAlloc,
  scalingScenario,
  latencyScenario,
  rss,
  e2e,
  compose,
  pinoWays,
  webhookScenario,
  webViewScenario,
  natsScenario,
]
