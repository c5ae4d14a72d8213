// The NATS server is down when the host collector starts: the collector
// starts anyway, holds what the producer logs within its bounds (the sink's
// queue fills to its capacity, demand pauses, the rest stays in the shm
// ring; policy block: nothing dropped), and delivers everything once the
// server is up.

import { join } from 'node:path'
import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { freePort, startServer } from './helpers.js'
import { envRef, jsonLines, lineCounter, Scene } from './processes.js'

const COUNT = 20_000
const CAPACITY = 1000

t.test('server down at start: the host holds within bounds, then delivers everything', async (t) => {
  const port = await freePort()
  const url = `nats://127.0.0.1:${port}`
  const scene = new Scene(t, 'logkit-nats-down-')
  const app = `natsdn${process.pid}`
  const out = join(scene.work, 'central.log')
  const host = scene.compose(
    scene.manifest('host.yaml', [
      'version: 1',
      `app: ${app}`,
      'pipelines:',
      '  host:',
      '    sources: [{ use: shm }]',
      '    sinks:',
      '      - use: nats',
      `        servers: ${envRef('NATS_URL')}`,
      '        ackTimeoutMs: 1000',
      `        queue: { capacity: ${CAPACITY}, policy: block }`,
      '        retry: { retries: 2, maxDelayMs: 500 }',
    ]),
    { NATS_URL: url },
  )
  await scene.started(app, host)
  const producer = scene.produce(app, 'worker', COUNT)
  t.match(
    JSON.parse(await producer.done),
    { done: COUNT, dropped: 0 },
    'the producer logged every entry into its ring',
  )

  let status = ''
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
    status = await scene.status(app)
    if (/sink nats: 0 written, queue [1-9]\d*\//.test(status)) break
    await new Promise((r) => setTimeout(r, 200))
  }
  const queued = Number(/queue (\d+)\//.exec(status)?.[1] ?? -1)
  t.match(status, /sink nats: 0 written/, 'nothing written while the server is down')
  t.ok(
    queued > 0 && queued <= CAPACITY + 1024,
    `the sink queue holds ${queued} entries, within its capacity (and one batch)`,
  )
  t.match(status, /0 dropped, 0 failed/, 'nothing dropped or failed (policy block)')
  t.match(status, /server -, inFlight 0/, 'status says no server is connected')

  const server = await startServer(t, { port })
  const central = scene.compose(
    scene.manifest('central.yaml', [
      'version: 1',
      `app: ${app}c`,
      'pipelines:',
      '  central:',
      `    sources: [{ use: nats, servers: '${envRef('NATS_URL')}', durable: central }]`,
      '    operators: [{ use: dedupe }]',
      `    sinks: [{ use: file, path: ${out}, format: json }]`,
    ]),
    { NATS_URL: server.url },
  )
  await scene.started(`${app}c`, central)
  const count = lineCounter(out)
  await waitFor(() => count() >= COUNT, `${COUNT} entries at the central collector`, 90_000)
  const got = new Set(
    jsonLines(out)
      .filter((l) => l['name'] === 'worker')
      .map((l) => l['i']),
  )
  t.equal(got.size, COUNT, 'every entry arrived once the server came up')
})
