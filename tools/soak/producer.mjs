// A soak producer: logs `{ i }` ("soak <i>") through shm as SOURCE at about
// RATE entries per second for SECONDS, then closes and prints, as one JSON
// line, how many it logged and how many its transport dropped (the truth the
// soak checks the collector's reports against).
//
//   node producer.mjs SOURCE RATE SECONDS

import { createLogger } from '@logkit/core/producer'
import { shm } from '@logkit/transport-shm/producer'

const [source = 'p', rateArg = '2000', secondsArg = '60'] = process.argv.slice(2)
const rate = Number(rateArg)
const until = Date.now() + Number(secondsArg) * 1000
const log = createLogger({
  app: 'soak',
  source,
  // A small ring, so that a collector that is down for a few seconds makes it overflow.
  transport: shm({ app: 'soak', source, capacity: 256 * 1024, blockMs: 50 }),
})
let i = 0
const tickMs = 20
while (Date.now() < until) {
  const started = Date.now()
  // Bursts of a tick's worth, with a random spike now and then.
  const burst = Math.round((rate * tickMs) / 1000) * (Math.random() < 0.02 ? 20 : 1)
  for (let k = 0; k < burst; k++) {
    i++
    log.info({ i, pad: 'x'.repeat(i % 64) }, `soak ${i}`)
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, tickMs - (Date.now() - started))))
}
await log.close()
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, source, logged: i, dropped: log.stats.dropped })}\n`,
)
