// Delivery to a real HTTP server: every entry exactly once, in order, in
// requests within every limit, as NDJSON, a JSON array, inside a template,
// gzipped, from entries and from the byte path.

import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { createWebhookSink } from '../src/index.js'
import { batchOf, entries, ndjson, startServer } from './helpers.js'

t.test(
  '10,000 entries arrive exactly once, in order, in requests within maxEntries and maxBytes',
  async (t) => {
    const server = await startServer(t)
    const sink = createWebhookSink({
      url: server.url,
      preset: 'ndjson',
      batch: { maxEntries: 1000, maxBytes: '64KiB', maxWaitMs: 0 },
    })
    const all = entries(10_000)
    for (let i = 0; i < all.length; i += 700) await sink.write(all.slice(i, i + 700))
    await sink.close()
    const got = server.received.flatMap((r) => ndjson(r.body))
    t.same(
      got.map((e) => e['seq']),
      all.map((e) => e.seq),
      'every entry once, in order',
    )
    for (const r of server.received) {
      t.ok(r.body.length <= 64 * 1024, `a request of ${r.body.length} bytes is within maxBytes`)
      t.ok(ndjson(r.body).length <= 1000, 'and within maxEntries')
      t.equal(r.headers['content-type'], 'application/x-ndjson', 'as NDJSON')
      t.equal(r.method, 'POST', 'POSTed')
    }
    t.ok(server.received.length >= 10_000 / 1000, `${server.received.length} requests`)
    t.equal(sink.stats.delivered, 10_000, 'stats count them delivered')
    // The server sees a socket closed a moment after close() closed it on the client side.
    await waitFor(() => server.sockets.size === 0, 'the server to see the keep-alive connection closed')
    t.pass('close() ended the keep-alive connection: no socket is left')
  },
)

t.test('the byte path copies the rendered lines: the same bytes as from entries', async (t) => {
  const server = await startServer(t)
  const list = entries(2500, 1, { fields: { nested: { a: [1, 2, { b: 'é"\n' }] }, big: 2 ** 60 } })
  const sink = createWebhookSink({
    url: server.url,
    preset: 'ndjson',
    batch: { maxEntries: 1000, maxWaitMs: 0 },
  })
  t.type(sink.writeEntries, 'function', 'ndjson takes batches of bytes')
  await sink.writeEntries?.([batchOf(list.slice(0, 1200)), batchOf(list.slice(1200))])
  await sink.write(list)
  await sink.close()
  const half = server.received.length / 2
  const fromBytes = Buffer.concat(server.received.slice(0, half).map((r) => r.body))
  const fromEntries = Buffer.concat(server.received.slice(half).map((r) => r.body))
  t.equal(fromBytes.toString(), fromEntries.toString(), 'byte for byte the same NDJSON')
  t.same(
    server.received.map((r) => ndjson(r.body).length),
    [1000, 1000, 500, 1000, 1000, 500],
    'batches of bytes are cut at maxEntries across batches',
  )
})

t.test(
  'preset json sends an array; a template wraps it; gzip compresses it; PUT is used when asked',
  async (t) => {
    const server = await startServer(t)
    const sink = createWebhookSink({
      url: server.url,
      method: 'PUT',
      preset: 'json',
      template: '{"service":"shop","events":{{entries}}}',
      compression: 'gzip',
      batch: { maxWaitMs: 0 },
    })
    await sink.writeEntries?.([batchOf(entries(3))])
    await sink.write(entries(2, 10))
    await sink.close()
    t.equal(server.received.length, 2, 'two requests')
    for (const r of server.received) {
      t.equal(r.method, 'PUT', 'PUT')
      t.equal(r.headers['content-encoding'], 'gzip', 'gzipped')
      t.equal(r.headers['content-type'], 'application/json', 'JSON')
    }
    const bodies = server.received.map((r) => JSON.parse(r.body.toString()))
    t.equal(bodies[0].service, 'shop', 'the template is around the entries')
    t.same(
      bodies.flatMap((b) => b.events.map((e: { msg: string }) => e.msg)),
      ['entry 1', 'entry 2', 'entry 3', 'entry 10', 'entry 11'],
      'the entries, as arrays',
    )
  },
)

t.test('a json body stays within maxBytes, brackets and template included', async (t) => {
  const server = await startServer(t)
  const maxBytes = 2000
  const sink = createWebhookSink({
    url: server.url,
    preset: 'json',
    template: '{"events":{{entries}}}',
    batch: { maxBytes, maxWaitMs: 0 },
  })
  const list = entries(200)
  await sink.write(list)
  await sink.close()
  const msgs = server.received.flatMap((r) => {
    t.ok(r.body.length <= maxBytes, `${r.body.length} bytes <= ${maxBytes}`)
    return JSON.parse(r.body.toString()).events.map((e: { msg: string }) => e.msg)
  })
  t.same(
    msgs,
    list.map((e) => e.msg),
    'every entry once, in order',
  )
})

t.test('headers and auth are sent; level filters what is sent', async (t) => {
  const server = await startServer(t)
  const sink = createWebhookSink({
    url: server.url,
    headers: { 'X-Api-Key': 'key-secret-1' },
    auth: { bearer: 'bearer-secret-2' },
    level: 'warn',
    batch: { maxWaitMs: 0 },
  })
  await sink.write([...entries(3, 1, { level: 30 }), ...entries(2, 4, { level: 50 })])
  await sink.writeEntries?.([batchOf([...entries(2, 10, { level: 20 }), ...entries(1, 12, { level: 40 })])])
  await sink.close()
  t.equal(server.received[0]?.headers['x-api-key'], 'key-secret-1', 'the header')
  t.equal(server.received[0]?.headers['authorization'], 'Bearer bearer-secret-2', 'the bearer token')
  t.same(
    server.received.flatMap((r) => JSON.parse(r.body.toString()).map((e: { seq: number }) => e.seq)),
    [4, 5, 12],
    'only warn and above, from entries and from bytes',
  )
  t.equal(sink.stats.filtered, 5, 'the others are counted as filtered')
})

t.test('basic auth from the options or from the URL', async (t) => {
  const server = await startServer(t)
  const a = createWebhookSink({
    url: server.url,
    auth: { username: 'u', password: 'p4ss' },
    batch: { maxWaitMs: 0 },
  })
  await a.write(entries(1))
  await a.close()
  const withUser = server.url.replace('http://', 'http://who:pw%40rd@')
  const b = createWebhookSink({ url: withUser, batch: { maxWaitMs: 0 } })
  await b.write(entries(1))
  await b.close()
  t.equal(
    server.received[0]?.headers['authorization'],
    `Basic ${Buffer.from('u:p4ss').toString('base64')}`,
    'from auth',
  )
  t.equal(
    server.received[1]?.headers['authorization'],
    `Basic ${Buffer.from('who:pw@rd').toString('base64')}`,
    'from the URL, decoded',
  )
})

t.test('a write that fills no request waits maxWaitMs after the previous request', async (t) => {
  const server = await startServer(t)
  const sink = createWebhookSink({
    url: server.url,
    preset: 'ndjson',
    batch: { maxEntries: 10, maxWaitMs: 1000 },
  })
  await sink.write(entries(1))
  await sink.write(entries(1, 2))
  await sink.close()
  const waited = (server.received[1]?.at ?? 0) - (server.received[0]?.at ?? 0)
  t.ok(waited >= 990, `the second, not full, waits for maxWaitMs after the first (${waited} ms)`)
  t.equal(server.received.length, 2, 'two requests')
})

t.test('the first request, and a full one, do not wait for maxWaitMs', async (t) => {
  const server = await startServer(t)
  // A wait of 24 days: a write that waited for it would never resolve (the test would time out).
  const sink = createWebhookSink({
    url: server.url,
    preset: 'ndjson',
    batch: { maxEntries: 10, maxWaitMs: 2 ** 31 - 1 },
  })
  await sink.write(entries(1))
  t.equal(server.received.length, 1, 'the first request went without waiting')
  await sink.write(entries(10, 2))
  t.equal(server.received.length, 2, 'a full one went without waiting')
  await sink.close()
})

t.test('concurrency > 1 sends requests at once, every entry still exactly once', async (t) => {
  // Each answer is held a little, so that requests sent at once are seen at once.
  const server = await startServer(t, { status: 200, delayMs: 50 })
  const sink = createWebhookSink({
    url: server.url,
    preset: 'ndjson',
    concurrency: 4,
    batch: { maxEntries: 100, maxWaitMs: 0 },
  })
  await sink.write(entries(2000))
  await sink.close()
  const seqs = server.received.flatMap((r) => ndjson(r.body).map((e) => e['seq'] as number))
  t.same(
    [...seqs].sort((a, b) => a - b),
    Array.from({ length: 2000 }, (_, i) => i + 1),
    'each entry once (order across requests is not promised)',
  )
  t.ok(server.maxInFlight >= 2, `the server had ${server.maxInFlight} requests in flight at once`)
  t.ok(server.maxInFlight <= 4, 'never more than concurrency')
})

t.test('large entries that make the line buffer grow mid-write are cut and sent whole', async (t) => {
  const server = await startServer(t)
  const list = entries(60, 1, { fields: { blob: 'é'.repeat(20_000) } })
  const sink = createWebhookSink({
    url: server.url,
    preset: 'ndjson',
    batch: { maxBytes: '100KiB', maxWaitMs: 0 },
  })
  await sink.write(list)
  await sink.writeEntries?.([batchOf(list.slice(0, 30), 7), batchOf(list.slice(30), 7)])
  await sink.close()
  const got = server.received.flatMap((r) => {
    t.ok(r.body.length <= 100 * 1024, `${r.body.length} bytes within maxBytes`)
    return ndjson(r.body).map((e) => [e['seq'], (e['blob'] as string).length])
  })
  const want = list.map((e) => [e.seq, 20_000])
  t.same(got, [...want, ...want], 'every entry whole, once from entries and once from bytes, in order')
})
