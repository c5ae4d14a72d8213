// Host → NATS → central with real processes: four producers log 100,000
// entries into a host collector's shm rings (`logkit compose`, sink nats);
// a central collector (`logkit compose`, source nats, dedupe, file sink)
// writes them to its file. Each entry arrives exactly once, identified by
// (hostname, pid, seq); `logkit status` shows both NATS components.

import { join } from 'node:path'
import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { startServer } from './helpers.js'
import { envRef, jsonLines, lineCounter, Scene } from './processes.js'

const PRODUCERS = 4
const EACH = 25_000

for (const encoding of ['frames', 'ndjson'] as const) {
  t.test(`${PRODUCERS} × ${EACH} entries host → NATS → central, each once (${encoding})`, async (t) => {
    const quick = process.env['QUICK'] !== undefined || encoding === 'ndjson'
    const each = quick ? 2_500 : EACH
    const server = await startServer(t)
    const scene = new Scene(t, 'logkit-nats-e2e-')
    const app = `natse2e${encoding[0]}${process.pid}`
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
        `        encoding: ${encoding}`,
      ]),
      { NATS_URL: server.url },
    )
    const central = scene.compose(
      scene.manifest('central.yaml', [
        'version: 1',
        `app: ${app}c`,
        'pipelines:',
        '  central:',
        '    sources:',
        '      - use: nats',
        `        servers: ${envRef('NATS_URL')}`,
        '        durable: central',
        '    operators: [{ use: dedupe }]',
        '    sinks:',
        `      - { use: file, path: ${out}, format: json }`,
      ]),
      { NATS_URL: server.url },
    )
    await scene.started(app, host)
    const producers = Array.from({ length: PRODUCERS }, (_, k) => scene.produce(app, `w${k}`, each))
    const printed = await Promise.all(producers.map((p) => p.done))
    for (const line of printed)
      t.match(JSON.parse(line), { done: each, dropped: 0 }, 'a producer logged all, dropped none')

    const total = PRODUCERS * each
    const count = lineCounter(out)
    await waitFor(() => count() >= total, `${total} entries in the central file`, 120_000)

    const hostStatus = await scene.status(app)
    t.match(hostStatus, /sink nats: \d+ written/, 'logkit status shows the host sink')
    t.match(
      hostStatus,
      /server nats:\/\/127\.0\.0\.1:\d+, inFlight 0/,
      'and its connection and what is in flight',
    )
    // Nothing failed, so nothing was published twice.
    t.match(hostStatus, /inFlight 0, .*duplicates 0, reconnects 0/, 'and no duplicates, no reconnects')
    const centralStatus = await scene.status(`${app}c`)
    t.match(
      centralStatus,
      /source nats: server nats:\/\/127\.0\.0\.1:\d+, pendingAcks \d+/,
      'and the central source',
    )
    t.match(centralStatus, /redeliveries 0/, 'with its redeliveries')
    t.match(
      centralStatus,
      /sink file: \d+ written, queue \d+\/\d+, 0 dropped, 0 failed/,
      'the central sink dropped nothing',
    )

    host.child.kill('SIGTERM')
    central.child.kill('SIGTERM')
    await Promise.all(
      [host.child, central.child].map(
        (c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r))),
      ),
    )
    t.equal(host.child.exitCode, 0, 'the host collector shut down cleanly')
    t.equal(central.child.exitCode, 0, 'the central collector shut down cleanly')

    const lines = jsonLines(out).filter((l) => l['name'] !== 'logkit')
    const keys = new Map<string, number>()
    for (const l of lines) {
      const key = `${l['hostname']}/${l['pid']}/${l['seq']}`
      keys.set(key, (keys.get(key) ?? 0) + 1)
    }
    t.equal(lines.length, total, 'as many lines as entries logged')
    t.equal(keys.size, total, 'each (hostname, pid, seq) once')
    const pids = new Set(lines.map((l) => l['pid']))
    t.equal(pids.size, PRODUCERS, 'from every producer')
    const seqs = new Map<unknown, number[]>()
    for (const l of lines) {
      const list = seqs.get(l['pid']) ?? []
      list.push(l['i'] as number)
      seqs.set(l['pid'], list)
    }
    for (const [pid, list] of seqs) {
      list.sort((a, b) => a - b)
      t.ok(
        list.length === each && list.every((v, k) => v === k + 1),
        `producer ${pid}: entries 1 … ${each}, none missing`,
      )
    }
    t.notMatch(host.stderr() + central.stderr(), /LOGKIT_ERR/, 'no errors on either side')
  })
}
