// A three-node JetStream cluster on 127.0.0.1 and a stream with 3 replicas:
// the stream's leader is killed (SIGKILL) while entries flow host → NATS →
// central; a new leader is elected, the host's sink retries what was not
// acknowledged (the message ids keep JetStream from storing it twice), the
// central source reconnects, and every entry arrives, once after dedupe.

import { join } from 'node:path'
import { waitFor } from '@logkit/core/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import t from 'tap'
import { client, startCluster } from './helpers.js'
import { envRef, jsonLines, lineCounter, Scene } from './processes.js'

const COUNT = 20_000

t.test('the stream leader is killed mid-stream: nothing is lost', async (t) => {
  const servers = await startCluster(t)
  const urls = servers.map((s) => s.url)
  const scene = new Scene(t, 'logkit-nats-cluster-')
  const app = `natscl${process.pid}`
  const out = join(scene.work, 'central.log')
  const env = { NATS_A: urls[0] as string, NATS_B: urls[1] as string, NATS_C: urls[2] as string }
  const servers3 = `['${envRef('NATS_A')}', '${envRef('NATS_B')}', '${envRef('NATS_C')}']`
  const host = scene.compose(
    scene.manifest('host.yaml', [
      'version: 1',
      `app: ${app}`,
      'pipelines:',
      '  host:',
      '    sources: [{ use: shm }]',
      '    sinks:',
      '      - use: nats',
      `        servers: ${servers3}`,
      '        stream: { replicas: 3 }',
      '        maxMessageEntries: 100',
      '        ackTimeoutMs: 3000',
    ]),
    env,
  )
  scene.compose(
    scene.manifest('central.yaml', [
      'version: 1',
      `app: ${app}c`,
      'pipelines:',
      '  central:',
      '    sources:',
      '      - use: nats',
      `        servers: ${servers3}`,
      '        durable: central',
      '        ackWaitMs: 5000',
      '    operators: [{ use: dedupe }]',
      '    sinks:',
      `      - { use: file, path: ${out}, format: json }`,
    ]),
    env,
  )
  await scene.started(app, host)
  const producer = scene.produce(app, 'worker', COUNT, 150)
  const count = lineCounter(out)
  await waitFor(() => count() >= 3000, 'the first entries at the central collector', 60_000)

  const nc = await client(t, urls)
  const jsm = await jetstreamManager(nc)
  const info = await jsm.streams.info('LOGKIT')
  t.equal(info.config.num_replicas, 3, 'the host sink made the stream with 3 replicas')
  const leader = servers.find((s) => s.name === info.cluster?.leader)
  t.ok(leader, `the stream has a leader (${info.cluster?.leader})`)
  await leader?.stop('SIGKILL')
  t.pass('the leader is killed mid-stream')

  t.match(JSON.parse(await producer.done), { done: COUNT, dropped: 0 }, 'the producer logged every entry')
  await waitFor(() => count() >= COUNT, `${COUNT} entries at the central collector`, 120_000)
  const after = await jsm.streams.info('LOGKIT')
  t.not(after.cluster?.leader, info.cluster?.leader, `another leader took over (${after.cluster?.leader})`)

  const lines = jsonLines(out).filter((l) => l['name'] === 'worker')
  const seen = new Map<number, number>()
  for (const l of lines) seen.set(l['i'] as number, (seen.get(l['i'] as number) ?? 0) + 1)
  const missing = Array.from({ length: COUNT }, (_, k) => k + 1).filter((i) => !seen.has(i))
  t.same(missing, [], 'no entry lost')
  t.equal(lines.length, COUNT, 'each entry once (duplicates, if any, removed by dedupe)')
})
