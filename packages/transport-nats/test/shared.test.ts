// Two central collectors (real `logkit compose` processes) on one durable
// consumer: the messages are shared between them. One of them stops
// acknowledging (its sink holds its writes) and is killed with SIGKILL: the
// messages it held unacknowledged are redelivered to the other after ackWait,
// so every entry arrives, and `logkit status` shows the redeliveries.

import { join } from 'node:path'
import { createEntry } from '@logkit/core'
import { waitFor } from '@logkit/core/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import t from 'tap'
import { createNatsSink, ensureStream, natsSinkOptions } from '../src/index.js'
import { client, startServer } from './helpers.js'
import { envRef, exited, jsonLines, Scene, stallSink } from './processes.js'

const COUNT = 2000

t.test(
  'two collectors share a durable consumer; one is killed, the other gets its unacknowledged entries',
  async (t) => {
    const server = await startServer(t)
    const scene = new Scene(t, 'logkit-nats-shared-')
    const app = `natssh${process.pid}`
    const fileA = join(scene.work, 'a.jsonl')
    const fileB = join(scene.work, 'b.log')
    const central = (name: string, sink: string[]) =>
      scene.compose(
        scene.manifest(`${name}.yaml`, [
          'version: 1',
          `app: ${app}${name}`,
          'pipelines:',
          '  central:',
          '    sources:',
          '      - use: nats',
          `        servers: ${envRef('NATS_URL')}`,
          '        durable: shared',
          '        ackWaitMs: 2000',
          '        batch: 4',
          '    sinks:',
          ...sink,
        ]),
        { NATS_URL: server.url },
      )
    // A's queue is small: once its sink holds, A stops pulling and B takes the rest.
    const a = central('a', [
      `      - { use: ${stallSink}, path: ${fileA}, stallAfter: 4, queue: { capacity: 50 } }`,
    ])
    const b = central('b', [`      - { use: file, path: ${fileB}, format: json }`])
    await scene.started(`${app}a`, a)
    await scene.started(`${app}b`, b)

    const nc = await client(t, server.url)
    const jsm = await jetstreamManager(nc)
    // The stream, then both collectors pulling, before anything is published.
    await ensureStream(jsm, natsSinkOptions.parse({}).stream, 'logkit.x')
    for (let tries = 0; ; tries++) {
      const waiting = await jsm.consumers
        .info('LOGKIT', 'shared')
        .then((info) => info.num_waiting)
        .catch(() => 0)
      if (waiting >= 2) break
      if (tries > 600) throw new Error('the two collectors did not both pull')
      await new Promise((r) => setTimeout(r, 50))
    }
    const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url, maxMessageEntries: 10 }), {
      report: () => {},
    })
    t.teardown(() => sink.close())
    const entries = Array.from({ length: COUNT }, (_, k) =>
      createEntry({
        msg: 'e',
        app: 'shop',
        source: 'web',
        hostname: 'h',
        pid: 7,
        seq: k + 1,
        fields: { i: k + 1 },
      }),
    )
    for (let k = 0; k < COUNT; k += 100) {
      await sink.write(entries.slice(k, k + 100))
      await new Promise((r) => setTimeout(r, 20))
    }

    const iOf = (lines: Record<string, unknown>[]) => new Set(lines.map((l) => l['i'] as number))
    // Everything is delivered: B wrote its share, A holds the rest unacknowledged.
    let pending = 0
    for (let tries = 0; tries < 600; tries++) {
      const info = await jsm.consumers.info('LOGKIT', 'shared')
      pending = info.num_ack_pending
      if (info.num_pending === 0 && pending > 0) break
      await new Promise((r) => setTimeout(r, 50))
    }
    t.ok(pending > 0, `A holds ${pending} messages unacknowledged`)
    const beforeA = iOf(jsonLines(fileA))
    const beforeB = iOf(jsonLines(fileB))
    t.ok(beforeA.size > 0, `A wrote a share (${beforeA.size} entries)`)
    t.ok(beforeB.size > 0, `B wrote a share (${beforeB.size} entries)`)

    a.child.kill('SIGKILL')
    await exited(a.child)
    await waitFor(() => iOf(jsonLines(fileB)).size + beforeA.size >= COUNT, 'B to get what A held', 60_000)
    const afterB = iOf(jsonLines(fileB))
    const lost = entries.map((e) => e.seq).filter((i) => !beforeA.has(i) && !afterB.has(i))
    t.same(lost, [], 'every entry was written by A or by B')
    const heldByA = entries.map((e) => e.seq).filter((i) => !beforeA.has(i) && !beforeB.has(i))
    t.ok(
      heldByA.length > 0 && heldByA.every((i) => afterB.has(i)),
      `the ${heldByA.length} entries A held arrived through B`,
    )
    const status = await scene.status(`${app}b`)
    t.match(status, /redeliveries [1-9]\d*/, 'B counts the redeliveries in logkit status')
  },
)
