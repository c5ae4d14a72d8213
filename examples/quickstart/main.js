// Quickstart: one process, three modules logging through logkit's in-process
// transport into a pipeline that filters, enriches, redacts and rate-limits,
// then writes pretty lines to the terminal and pino-compatible NDJSON to a file.
//
//   npm run quickstart      (from the repository root)

import { createWriteStream, mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  createLogger,
  createMemoryChannel,
  createPipeline,
  createStreamSink,
  enrich,
  filter,
  rateLimit,
  redact,
} from '@logkit/core'

const here = dirname(fileURLToPath(import.meta.url))
const logFile = resolve(here, '../../logs/quickstart.log')
mkdirSync(dirname(logFile), { recursive: true })

const channel = createMemoryChannel({ capacityBytes: 4 * 1024 * 1024 })
const pipeline = createPipeline({
  id: 'quickstart',
  app: 'demoapp',
  sources: [{ id: 'memory', create: channel.source }],
  operators: [
    filter({ level: 'debug', exclude: ['healthcheck'] }),
    enrich({ fields: { env: 'demo' }, hostname: true }),
    redact({ paths: ['password', 'card.number'] }),
    rateLimit({ perSecond: 300, burst: 50 }),
  ],
  sinks: [
    { id: 'console', sink: createStreamSink({ stream: process.stdout, format: { format: 'pretty' } }) },
    {
      id: 'file',
      sink: createStreamSink({ stream: createWriteStream(logFile, { mode: 0o600 }), end: true }),
      queue: { capacity: 10_000, policy: 'block' },
    },
  ],
})
await pipeline.start()

const log = createLogger({ app: 'demoapp', source: 'main', level: 'debug', transport: channel.transport })
const modules = ['processor', 'validator', 'indexer'].map((name) =>
  log.child({ module: name }, { source: name }),
)
const [processor, validator, indexer] = modules

log.info({ modules: modules.map((m) => m.source) }, 'demo starting')
for (let i = 1; i <= 30; i++) {
  processor.info({ job: i, items: i * 3 }, 'job processed')
  if (i % 5 === 0) validator.warn({ job: i, password: 'hunter2' }, 'credentials in payload (redacted)')
  if (i % 7 === 0) indexer.error(new Error(`index shard ${i % 3} unavailable`), 'indexing failed')
  indexer.debug('healthcheck ok') // excluded by the filter
  validator.debug({ card: { number: '4111111111111111', brand: 'visa' } }, 'card checked')
  await new Promise((r) => setTimeout(r, 20))
}
// A burst over the rate limit: the excess is dropped, counted and summarised.
for (let i = 0; i < 1000; i++) processor.trace({ i }, 'below the level: costs one no-op call')
for (let i = 0; i < 500; i++) processor.info({ i }, 'burst')
log.info('demo done')

await log.close()
await new Promise((r) => setTimeout(r, 1100)) // let the rate limiter's summary for the burst come out
const stats = await pipeline.close()
const sinks = stats.sinks.map((s) => `${s.id}: ${s.written} written, ${s.dropped} dropped`).join('; ')
console.log(`\nquickstart: ${stats.in} entries in, ${stats.out} out; ${sinks}`)
console.log(`NDJSON written to ${logFile}`)
