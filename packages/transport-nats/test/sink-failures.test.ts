// The sink when things go wrong, against a real nats-server: the server
// restarts (the write fails, is retried, and JetStream drops what it had
// stored by message id), closing with no server (waits are cut), a stream
// that is missing or does not cover the subject, an entry too large.

import { createEntry, type Diagnostic, isLogkitError, type LogEntry } from '@logkit/core'
import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { connectError, createNatsSink, natsSinkOptions, openNatsSink, serverLabel } from '../src/index.js'
import { startServer } from './helpers.js'

type Seen = Omit<Diagnostic, 'stage' | 'component'>
const recorder = () => {
  const seen: Seen[] = []
  return { report: (d: Seen) => void seen.push(d), seen }
}

const entries = (n: number, from = 1): LogEntry[] =>
  Array.from({ length: n }, (_, k) =>
    createEntry({ msg: 'e', app: 'shop', source: 'web', hostname: 'h', pid: 3, seq: from + k }),
  )

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

t.test(
  'a server restart: the write fails, the retry goes through, re-published messages are not stored twice',
  async (t) => {
    const server = await startServer(t)
    const { report, seen } = recorder()
    const sink = createNatsSink(
      natsSinkOptions.parse({ servers: server.url, ackTimeoutMs: 500, maxMessageEntries: 5 }),
      {
        report,
      },
    )
    t.teardown(() => sink.close())
    const first = entries(10)
    await sink.write(first)
    await server.stop()
    await waitFor(() => seen.some((d) => d.code === 'nats_disconnected'), 'the disconnect reported')
    t.equal(sink.status().server, '', 'status: no server')
    const err = await failure(sink.write(entries(5, 11)))
    t.ok(
      isLogkitError(err, 'LOGKIT_ERR_NATS_PUBLISH') || isLogkitError(err, 'LOGKIT_ERR_NATS_CONNECT'),
      `the write fails while the server is down (${(err as { code?: string })?.code})`,
    )
    await server.start()
    await waitFor(() => seen.some((d) => d.code === 'nats_reconnected'), 'the reconnect reported', 30_000)
    t.equal(sink.status().reconnects, 1, 'status counts the reconnect')
    // The runtime's retry: the same write again, and the first one too (as after a lost acknowledgement).
    for (let tries = 0; ; tries++) {
      const again = await failure(sink.write(entries(5, 11)))
      if (again === undefined) break
      if (tries > 50) throw again
      await new Promise((r) => setTimeout(r, 200))
    }
    await sink.write(first)
    t.ok(sink.status().duplicates >= 2, 'JetStream dropped the re-published messages')
    t.ok(
      seen.some((d) => d.code === 'nats_duplicate' && (d.count ?? 0) >= 2),
      'reported as nats_duplicate with their count',
    )
  },
)

t.test(
  'closing with no server: a waiting write fails at once; after close, writes are refused',
  async (t) => {
    const server = await startServer(t)
    const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url, ackTimeoutMs: 60_000 }), {
      report: () => {},
    })
    await sink.write(entries(1))
    await server.stop()
    await waitFor(() => sink.status().server === '', 'the sink to see the server gone')
    const pending = failure(sink.write(entries(1, 2)))
    await new Promise((r) => setTimeout(r, 100))
    sink.closing?.()
    const err = await pending
    t.ok(isLogkitError(err, 'LOGKIT_ERR_NATS_CONNECT'), 'the waiting write fails at once with no server')
    t.ok(
      isLogkitError(await failure(sink.write(entries(1, 3))), 'LOGKIT_ERR_NATS_CONNECT'),
      'a write while closing with no server fails at once too',
    )
    await sink.close()
    await sink.close()
    t.ok(isLogkitError(await failure(sink.write(entries(1, 4))), 'LOGKIT_ERR_NATS_CLOSED'), 'closed')
    await sink.flush?.()
    await sink.write([])
    t.pass('flush and an empty write need nothing')
  },
)

t.test('a server that never comes: writes fail after ackTimeoutMs and close does not hang', async (t) => {
  const sink = createNatsSink(natsSinkOptions.parse({ servers: 'nats://127.0.0.1:1', ackTimeoutMs: 300 }), {
    report: () => {},
  })
  const err = await failure(sink.write(entries(1)))
  t.ok(isLogkitError(err, 'LOGKIT_ERR_NATS_CONNECT'), 'LOGKIT_ERR_NATS_CONNECT')
  t.match(String((err as Error).message), /no NATS server/, 'saying none was reachable')
  await sink.close()
  t.pass('closed')
})

t.test('streams: required and missing, or not covering the subject, fail at start', async (t) => {
  const server = await startServer(t)
  const missing = await failure(
    openNatsSink(natsSinkOptions.parse({ servers: server.url, stream: { name: 'NOPE', create: false } }), {
      report: () => {},
    }),
  )
  t.ok(isLogkitError(missing, 'LOGKIT_ERR_NATS_STREAM'), 'a stream required and missing')
  const sink = await openNatsSink(natsSinkOptions.parse({ servers: server.url }), { report: () => {} })
  await sink.close()
  const other = await failure(
    openNatsSink(natsSinkOptions.parse({ servers: server.url, subject: 'other.{app}' }), {
      report: () => {},
    }),
  )
  t.ok(isLogkitError(other, 'LOGKIT_ERR_NATS_STREAM'), 'a stream whose subjects do not cover the subject')
  t.match(String((other as Error).message), /do not cover the subject other\.\{app\}/, 'saying so')
})

t.test(
  'an entry too large alone is dropped and counted; fields not an object are counted (ndjson)',
  async (t) => {
    const server = await startServer(t)
    const { report, seen } = recorder()
    const sink = createNatsSink(
      natsSinkOptions.parse({ servers: server.url, maxMessageBytes: 2048, encoding: 'ndjson' }),
      { report },
    )
    t.teardown(() => sink.close())
    await sink.write([
      createEntry({ msg: 'x'.repeat(4096), seq: 1 }),
      createEntry({ msg: 'ok', seq: 2, fields: '[1,2]' as never }),
    ])
    t.match(
      seen.find((d) => d.code === 'dropped'),
      { count: 1, details: { reason: 'too_large' } },
      'the large entry: dropped, reason too_large',
    )
    t.equal(sink.status().acknowledged, 1, 'the other entry was published')
  },
)

t.test('errors name the server by scheme, host and port only', async (t) => {
  t.equal(serverLabel('nats://user:pw@h:4222'), 'nats://h:4222', 'no user or password')
  t.equal(serverLabel('h:4222'), 'nats://h:4222', 'a bare host:port')
  t.equal(serverLabel('nats://[::1'), '(invalid URL)', 'an invalid URL')
  const tls = connectError(new Error('TLS handshake failed: certificate unknown'), ['tls://h:4443'])
  t.ok(isLogkitError(tls, 'LOGKIT_ERR_NATS_TLS'), 'a TLS failure: LOGKIT_ERR_NATS_TLS')
  const other = connectError('refused', ['nats://h:1'])
  t.ok(isLogkitError(other, 'LOGKIT_ERR_NATS_CONNECT'), 'anything else: LOGKIT_ERR_NATS_CONNECT')
})
