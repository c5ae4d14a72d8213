// A three-node JetStream cluster on 127.0.0.1 and a stream with 3 replicas:
// the node the host's sink is connected to is killed (SIGKILL) while entries
// flow host → NATS → central; the sink reconnects to another node (its status
// counts the reconnect), a new stream leader is elected (the killed node
// led: made so by step-downs), the sink retries what was not acknowledged (the message ids keep
// JetStream from storing it twice), the central source reconnects when it
// was there too, and every entry arrives, once after dedupe.

import { join } from 'node:path'
import { waitFor } from '@logkit/core/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import t from 'tap'
import { client, startCluster } from './helpers.js'
import { envRef, jsonLines, lineCounter, Scene } from './processes.js'

const COUNT = 20_000

/** Polls `check` until it gives something, at most `timeoutMs`. */
async function waitForAsync<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The host sink's connected server and reconnects, from `logkit status`. */
function sinkStatus(text: string): { server: string; reconnects: number } | undefined {
  // The sink's own status is the line after its `sink nats:` line.
  const lines = text.split('\n')
  const line = lines[lines.findIndex((l) => l.includes('sink nats:')) + 1]
  const server = line?.match(/server (nats:\/\/[^,]+|-),/)?.[1]
  const reconnects = line?.match(/reconnects (\d+)/)?.[1]
  return server === undefined || reconnects === undefined
    ? undefined
    : { server, reconnects: Number(reconnects) }
}

t.test("the node the host's sink is connected to is killed mid-stream: nothing is lost", async (t) => {
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
  t.ok(info.cluster?.leader, `the stream has a leader (${info.cluster?.leader})`)
  const before = sinkStatus(await scene.status(app))
  const victim = servers.find((s) => s.url === before?.server)
  t.ok(victim, `the host's sink is connected to a node of the cluster (${before?.server})`)
  t.equal(before?.reconnects, 0, 'and has not reconnected yet')
  // Make that node the stream's leader too (a leader steps down to a node
  // chosen by the cluster: ask until it is this one), so that one kill is
  // both failovers: the sink's connection and the stream's leader.
  let leaderNow = info.cluster?.leader
  for (let tries = 0; leaderNow !== victim?.name && tries < 40; tries++) {
    const was = leaderNow
    await nc.request('$JS.API.STREAM.LEADER.STEPDOWN.LOGKIT', '', { timeout: 10_000 }).catch(() => {})
    for (let n = 0; n < 100; n++) {
      leaderNow = await jsm.streams.info('LOGKIT').then(
        (i) => i.cluster?.leader,
        () => undefined,
      )
      if (leaderNow !== undefined && leaderNow !== was) break
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  t.equal(leaderNow, victim?.name, "the host's node is the stream leader before the kill")
  await victim?.stop('SIGKILL')
  t.pass(`the host's node, the stream leader, is killed mid-stream (${victim?.name})`)

  t.match(JSON.parse(await producer.done), { done: COUNT, dropped: 0 }, 'the producer logged every entry')
  await waitFor(() => count() >= COUNT, `${COUNT} entries at the central collector`, 120_000)
  // The test's own connection may have been on the killed node too: ask until it answers again.
  const after = await waitForAsync(
    () => jsm.streams.info('LOGKIT').catch(() => undefined),
    'the stream info after the kill',
  )
  t.ok(after.cluster?.leader, `the stream has a leader (${after.cluster?.leader})`)
  t.not(after.cluster?.leader, victim?.name, 'not the killed node')
  const failedOver = sinkStatus(await scene.status(app))
  t.ok((failedOver?.reconnects ?? 0) >= 1, `the host's sink reconnected (${failedOver?.reconnects} times)`)
  t.not(failedOver?.server, victim?.url, 'to another node')

  const lines = jsonLines(out).filter((l) => l['name'] === 'worker')
  const seen = new Map<number, number>()
  for (const l of lines) seen.set(l['i'] as number, (seen.get(l['i'] as number) ?? 0) + 1)
  const missing = Array.from({ length: COUNT }, (_, k) => k + 1).filter((i) => !seen.has(i))
  t.same(missing, [], 'no entry lost')
  t.equal(lines.length, COUNT, 'each entry once (duplicates, if any, removed by dedupe)')
})
