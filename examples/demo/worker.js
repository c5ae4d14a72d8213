// One worker module of the demo: logs its work for a few seconds through shm
// or fifo. The indexer crashes on purpose after logging (no goodbye, no
// flush): its last entries are still in its shared-memory ring, and the
// collector salvages them and reports the exit.
//
//   node worker.js NAME shm|fifo [crash]

import { createLogger } from '@logkit/core/producer'

const [name = 'worker', via = 'shm', crash] = process.argv.slice(2)
// A worker imports the producer entry points only: the main entry points also
// load the collector's runtime (RxJS, zod, the sources), several times the
// start-up cost of require('pino') (`npm run bench -- --only startup`).
const { [via]: transportOf } = await import(`@logkit/transport-${via}/producer`)
const log = createLogger({
  app: 'demoapp',
  source: name,
  level: 'debug',
  transport: transportOf(),
})
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

log.info({ pid: process.pid, via }, `${name} started`)
for (let i = 1; i <= 20; i++) {
  if (name === 'processor') log.info({ job: i, items: i * 3 }, 'job processed')
  if (name === 'validator') {
    if (i % 4 === 0) log.warn({ record: i, field: 'email' }, 'record failed validation')
    else log.info({ record: i }, 'record valid')
  }
  if (name === 'indexer') log.info({ doc: i, shard: i % 3 }, 'document indexed')
  log.debug('healthcheck ok') // below the manifest's level and excluded: never shown
  if (name === 'processor' && i === 10) {
    // A burst: the manifest's rateLimit keeps 20 and summarises the rest.
    for (let j = 0; j < 300; j++) log.info({ j }, 'burst')
  }
  if (crash === 'crash' && i === 14) {
    log.error({ doc: i }, `${name}: shard ${i % 3} corrupt, giving up`)
    log.fatal({ doc: i, lastWords: true }, `${name} crashing now`)
    process.exit(3) // on purpose: no log.close(), nothing flushed by hand
  }
  await sleep(120)
}
log.info(`${name} done`)
await log.close()
