// The sink when things go wrong, against a real nats-server: the server
// restarts (the write fails, is retried, and JetStream drops what it had
// stored by message id), closing with no server (waits are cut), a stream
// that is missing or does not cover the subject, an entry too large.

import { createEntry, type Diagnostic, isLogkitError, type LogEntry } from '@logkit/core'
import { waitFor } from '@logkit/core/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import { errors as natsErrors } from '@nats-io/transport-node'
import t, { type Test } from 'tap'
import { failureKind } from '../src/errors.js'
import {
  connectError,
  createNatsSink,
  ensureStream,
  natsSinkOptions,
  openNatsSink,
  serverLabel,
} from '../src/index.js'
import { client, startServer, streamMessages } from './helpers.js'

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

/** Tries `write` as the runtime's retry would, until it goes through (at most `tries` times). */
async function retried(write: () => Promise<void>, tries = 60): Promise<void> {
  for (let n = 0; ; n++) {
    const err = await failure(write())
    if (err === undefined) return
    if (n >= tries) throw err
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** `p`'s outcome ('written' or the error's code), or 'still pending' after a generous wait. */
const outcome = (p: Promise<unknown>) =>
  Promise.race([
    p.then(
      () => 'written',
      (e: unknown) => String((e as { code?: string })?.code),
    ),
    new Promise<string>((r) => setTimeout(() => r('still pending'), 60_000).unref()),
  ])

t.test(
  'closing cuts a write short with no server; once the server is back, the last attempt does not hang (maxInFlight 1)',
  async (t) => {
    const server = await startServer(t)
    const sink = createNatsSink(
      natsSinkOptions.parse({ servers: server.url, maxInFlight: 1, ackTimeoutMs: 5000 }),
      { report: () => {} },
    )
    t.teardown(() => sink.close())
    await sink.write(entries(1))
    await server.stop()
    await waitFor(() => sink.status().server === '', 'the sink to see the server gone')
    const cut = outcome(sink.write(entries(1, 2)))
    await waitFor(() => sink.status().inFlight === 1, "the write's publish in flight")
    sink.closing?.()
    t.equal(await cut, 'LOGKIT_ERR_NATS_CONNECT', 'closing with no server cuts the write short')
    await server.start()
    await waitFor(() => sink.status().server !== '', 'the sink to reconnect', 30_000)
    // The runtime's last attempt: it waits for the cut publish's place, then goes through.
    let last = await outcome(sink.write(entries(1, 2)))
    for (let n = 0; last !== 'written' && last !== 'still pending' && n < 20; n++)
      last = await outcome(sink.write(entries(1, 2)))
    t.equal(last, 'written', 'the write after the restart settles and goes through')
    await waitFor(() => sink.status().inFlight === 0, 'nothing left in flight')
  },
)

t.test('a memory stream lost in a server restart, or a deleted stream, is made again', async (t) => {
  const server = await startServer(t)
  const { report, seen } = recorder()
  const sink = createNatsSink(
    natsSinkOptions.parse({ servers: server.url, ackTimeoutMs: 2000, stream: { storage: 'memory' } }),
    { report },
  )
  t.teardown(() => sink.close())
  await sink.write(entries(10))
  const nc = await client(t, server.url)
  t.equal(await streamMessages(nc, 'LOGKIT'), 1, 'the memory stream holds the first message')
  await server.stop()
  await server.start()
  await waitFor(() => sink.status().server !== '', 'the sink to reconnect', 30_000)
  await retried(() => sink.write(entries(5, 11)))
  t.ok(
    seen.some((d) => d.code === 'nats_stream_missing'),
    'the missing stream is reported as nats_stream_missing',
  )
  t.equal(
    await streamMessages(nc, 'LOGKIT'),
    1,
    'after the restart the stream is there again, with the write in it',
  )

  const jsm = await jetstreamManager(nc)
  await jsm.streams.delete('LOGKIT')
  await retried(() => sink.write(entries(5, 16)))
  t.equal(await streamMessages(nc, 'LOGKIT'), 1, 'a deleted stream is made again, with the write in it')
})

t.test(
  'a server that takes smaller messages than maxMessageBytes: messages are cut to its size',
  async (t) => {
    const server = await startServer(t, { extra: 'max_payload: 16384' })
    const { report, seen } = recorder()
    const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url, ackTimeoutMs: 5000 }), {
      report,
    })
    t.teardown(() => sink.close())
    const big = (n: number, from: number) =>
      Array.from({ length: n }, (_, k) =>
        createEntry({ msg: 'x'.repeat(1000), hostname: 'h', pid: 3, seq: from + k }),
      )
    // The first write's messages may be made before the server's size is known: its retry makes them again.
    await retried(() => sink.write(big(100, 1)))
    await sink.write(big(100, 101))
    t.ok(
      seen.some((d) => d.code === 'nats_max_payload'),
      'the smaller max_payload is reported as nats_max_payload',
    )
    const nc = await client(t, server.url)
    t.ok((await streamMessages(nc, 'LOGKIT')) >= 14, 'the entries went in messages of at most 16 KiB')
    t.equal(sink.status().acknowledged, await streamMessages(nc, 'LOGKIT'), 'each acknowledged')
  },
)

t.test('a host name with CR or LF in it makes a valid message id', async (t) => {
  const server = await startServer(t)
  const sink = createNatsSink(natsSinkOptions.parse({ servers: server.url }), { report: () => {} })
  t.teardown(() => sink.close())
  await sink.write([createEntry({ msg: 'e', hostname: 'evil\r\nhost\u0007', pid: 1, seq: 1 })])
  t.equal(sink.status().acknowledged, 1, 'published and acknowledged')
})

t.test('client errors are classed: argument, permission (inside a RequestError), not found', async (t) => {
  const arg = new natsErrors.InvalidArgumentError("'payload' max_payload size exceeded")
  t.equal(failureKind(arg), 'argument', 'InvalidArgumentError: an argument error')
  const perm = new natsErrors.RequestError('Permissions Violation for Publish to "$JS.API.INFO"', {
    cause: new natsErrors.PermissionViolationError('Permissions Violation', 'publish', '$JS.API.INFO'),
  })
  t.equal(failureKind(perm), 'permission', 'a permission violation inside a RequestError')
  t.equal(failureKind(new Error('stream not found')), 'not_found', 'not found')
  t.equal(failureKind(new Error('boom')), 'other', 'anything else')
})

t.test('start-up: a server without JetStream (yet) is waited for, not a start-up failure', async (t) => {
  const plain = await startServer(t, { jetstream: false })
  const { report } = recorder()
  const sink = await openNatsSink(natsSinkOptions.parse({ servers: plain.url, ackTimeoutMs: 1000 }), {
    report,
  })
  t.teardown(() => sink.close())
  t.pass('openNatsSink resolved though JetStream did not answer')
  await plain.stop()
  await startServer(t, { port: plain.port })
  await retried(() => sink.write(entries(3)))
  t.equal(sink.status().acknowledged, 1, 'once JetStream answers, the write goes through')
})

t.test('credentials without the permission to use JetStream: a clear error at start-up', async (t) => {
  const server = await startServer(t, {
    extra: `authorization { users: [ { user: bob, password: "Bob-Secret-pw", permissions: { publish: { deny: ["$JS.API.>"] } } } ] }`,
  })
  const err = await failure(
    openNatsSink(
      natsSinkOptions.parse({ servers: server.url, auth: { user: 'bob', password: 'Bob-Secret-pw' } }),
      { report: () => {} },
    ),
  )
  t.ok(isLogkitError(err, 'LOGKIT_ERR_NATS_AUTH'), 'LOGKIT_ERR_NATS_AUTH')
  t.equal((err as { retryable?: boolean }).retryable, false, 'not retried')
  t.match(String((err as Error).message), /permission/, 'saying a permission is missing')
  t.notMatch(String((err as Error).message), 'Bob-Secret-pw', 'without the password')
})

/** Tries `write` as the runtime's retry would until it goes through; every failure must be retryable (the runtime holds it). */
async function held(t: Test, write: () => Promise<void>, tries = 60): Promise<unknown[]> {
  const errors: unknown[] = []
  for (let n = 0; ; n++) {
    const err = await failure(write())
    if (err === undefined) break
    errors.push(err)
    if ((err as { retryable?: boolean }).retryable === false || n >= tries) throw err
    await new Promise((r) => setTimeout(r, 250))
  }
  t.pass(`every failed attempt was retryable (${errors.length})`)
  return errors
}

t.test(
  'after start, the stream deleted with stream.create false: writes are held (retryable), reported once, and go through once it is made again',
  async (t) => {
    const server = await startServer(t)
    const nc = await client(t, server.url)
    const jsm = await jetstreamManager(nc)
    const { stream } = natsSinkOptions.parse({})
    await ensureStream(jsm, stream, 'logkit.x')
    const { report, seen } = recorder()
    const sink = await openNatsSink(
      natsSinkOptions.parse({ servers: server.url, ackTimeoutMs: 2000, stream: { create: false } }),
      { report },
    )
    t.teardown(() => sink.close())
    await sink.write(entries(3))
    await jsm.streams.delete('LOGKIT')
    // The publish finds no stream; the check before the next writes finds it missing, and create is false.
    for (let n = 0; n < 4; n++) {
      const err = await failure(sink.write(entries(3, 4)))
      t.ok(isLogkitError(err), `attempt ${n + 1} fails (${(err as { code?: string })?.code})`)
      t.not(
        (err as { retryable?: boolean }).retryable,
        false,
        `attempt ${n + 1} is retryable: the runtime holds it`,
      )
    }
    const blocked = seen.filter((d) => d.code === 'nats_sink_blocked')
    t.equal(blocked.length, 1, 'reported once, though tried again and again')
    t.match(blocked[0], { details: { error: 'LOGKIT_ERR_NATS_STREAM' } }, 'naming the error')
    await ensureStream(jsm, stream, 'logkit.x')
    await held(t, () => sink.write(entries(3, 4)))
    t.equal(
      await streamMessages(nc, 'LOGKIT'),
      1,
      'once the operator made the stream again, the held write is in it',
    )
  },
)

/** A server whose config has `authorization` (for user al), and a sink of al's that wrote once. */
async function alSink(t: Test, authorization: string) {
  const server = await startServer(t, { extra: authorization })
  const sink = await openNatsSink(
    natsSinkOptions.parse({
      servers: server.url,
      ackTimeoutMs: 1000,
      auth: { user: 'al', password: 'Al-Secret-pw' },
    }),
    { report: recorder().report },
  )
  t.teardown(() => sink.close())
  await sink.write(entries(3))
  return { server, sink }
}

/** A config edit: its `authorization { … }` line replaced. */
const withAuthorization = (line: string) => (config: string) => config.replace(/authorization \{.*\}/, line)

t.test(
  'after start, the publish permission revoked (config reload): writes are held (retryable), and go through once it is given back',
  async (t) => {
    const users = (deny: string) =>
      `authorization { users: [ { user: al, password: "Al-Secret-pw", permissions: { publish: { allow: [">"], deny: [${deny}] } } } ] }`
    const { server, sink } = await alSink(t, users('"nothing.here"'))
    const reload = (deny: string) => server.reload(withAuthorization(users(deny)))
    await reload('"logkit.>"')
    for (let n = 0; n < 2; n++) {
      const err = await failure(sink.write(entries(3, 4)))
      t.ok(isLogkitError(err), `attempt ${n + 1} fails (${(err as { code?: string })?.code})`)
      t.not(
        (err as { retryable?: boolean }).retryable,
        false,
        `attempt ${n + 1} is retryable: the runtime holds it`,
      )
    }
    await reload('"nothing.here"')
    await held(t, () => sink.write(entries(3, 4)))
    t.equal(sink.status().acknowledged, 2, 'the held write went through')
  },
)

t.test(
  'after start, the credentials refused on reconnect (password changed by a reload): the client keeps trying, the write goes through once they are taken again',
  async (t) => {
    const users = (password: string) => `authorization { users: [ { user: al, password: "${password}" } ] }`
    const { server, sink } = await alSink(t, users('Al-Secret-pw'))
    const reload = (password: string) => server.reload(withAuthorization(users(password)))
    await reload('Changed-pw')
    await waitFor(() => sink.status().server === '', 'the server to drop the connection it no longer takes')
    // The client's reconnects meet "authorization violation" now; by default
    // it would give up after two and close for good, and the sink with it.
    await waitFor(
      () => (server.log.match(/authentication error/g)?.length ?? 0) >= 3,
      'three refused reconnects',
      30_000,
    )
    await reload('Al-Secret-pw')
    await held(t, () => sink.write(entries(3, 4)))
    t.equal(sink.status().acknowledged, 2, 'the held write went through, on the same client')
  },
)

t.test(
  'a reconnect to a server that takes smaller messages: the write is retried (not dropped) with messages of its size',
  async (t) => {
    const first = await startServer(t)
    const { report, seen } = recorder()
    const sink = createNatsSink(natsSinkOptions.parse({ servers: first.url, ackTimeoutMs: 2000 }), { report })
    t.teardown(() => sink.close())
    const big = (n: number, from: number) =>
      Array.from({ length: n }, (_, k) =>
        createEntry({ msg: 'x'.repeat(1000), hostname: 'h', pid: 3, seq: from + k }),
      )
    await sink.write(big(100, 1))
    t.equal(sink.status().acknowledged, 1, 'one message of 100 entries, under the first server')
    await first.stop()
    const second = await startServer(t, { port: first.port, extra: 'max_payload: 16384' })
    await waitFor(() => sink.status().server !== '', 'the sink to reconnect', 30_000)
    await held(t, () => sink.write(big(100, 101)))
    t.ok(
      seen.some((d) => d.code === 'nats_max_payload'),
      'the smaller max_payload is reported as nats_max_payload',
    )
    const nc = await client(t, second.url)
    t.ok((await streamMessages(nc, 'LOGKIT')) >= 7, 'the 100 entries went in messages of at most 16 KiB')
  },
)
