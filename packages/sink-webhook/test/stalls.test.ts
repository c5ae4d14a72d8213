// A server that stalls (the request times out) and one that resets
// connections: no crash, the entries are retried, then dead-lettered or
// delivered, and close() leaves no socket or timer behind.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { createWebhookSink, HEADER_KEY } from '../src/index.js'
import { entries, ndjson, startServer, type TestServer } from './helpers.js'

/** Handles of the kinds a sink could leak, by kind. */
function handles(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'Timeout' || kind === 'TCPSocketWrap' || kind === 'TCPWRAP') out[kind] = (out[kind] ?? 0) + 1
  }
  return out
}

async function settled(server: TestServer): Promise<void> {
  await waitFor(() => server.sockets.size === 0, 'the server to see every connection closed', 10_000)
}

t.test(
  'a stalled server: each attempt times out, the entries go to the dead-letter file, nothing is left open',
  async (t) => {
    const server = await startServer(t, 'stall')
    const deadLetter = join(t.testdir(), 'dead.ndjson')
    const before = handles()
    const sink = createWebhookSink({
      url: server.url,
      preset: 'ndjson',
      timeoutMs: 300,
      retry: { retries: 2, minDelayMs: 1, maxDelayMs: 10 },
      batch: { maxWaitMs: 0 },
      deadLetter,
    })
    const start = Date.now()
    await sink.write(entries(4))
    t.ok(Date.now() - start >= 3 * 290, 'three attempts, each waited for its timeout')
    t.equal(server.received.length, 3, 'three attempts reached the server')
    const lines = readFileSync(deadLetter, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    t.match(
      lines[0][HEADER_KEY],
      { reason: 'retries_spent', error: /^TIMEOUT/ },
      'dead-lettered after timeouts',
    )
    t.equal(lines.length, 5, 'with its 4 entries')
    await sink.close()
    await settled(server)
    t.same(handles(), before, 'no socket or timer is left after close()')
  },
)

t.test(
  'a server that resets connections: retried on a new connection, delivered, nothing left open',
  async (t) => {
    const server = await startServer(t)
    server.answers.push('reset', 'reset')
    const before = handles()
    const sink = createWebhookSink({
      url: server.url,
      preset: 'ndjson',
      retry: { retries: 3, minDelayMs: 1, maxDelayMs: 10 },
      batch: { maxWaitMs: 0 },
    })
    await sink.write(entries(3))
    t.equal(server.received.length, 3, 'two resets, then accepted')
    t.same(
      ndjson(server.received[2]?.body ?? Buffer.alloc(0)).map((e) => e['seq']),
      [1, 2, 3],
      'the entries, once delivered',
    )
    t.equal(sink.stats.retries, 2, 'two retries')
    await sink.close()
    await settled(server)
    t.same(handles(), before, 'no socket or timer is left after close()')
  },
)

t.test('close() cuts a long backoff short and waits for the request in flight', async (t) => {
  const server = await startServer(t)
  server.answers.push({ status: 503, headers: { 'retry-after': '30' } }, { status: 503 })
  const deadLetter = join(t.testdir(), 'dead.ndjson')
  const sink = createWebhookSink({ url: server.url, batch: { maxWaitMs: 0 }, deadLetter })
  const write = sink.write(entries(2))
  await waitFor(() => sink.stats.retries === 1, 'the sink to wait out its Retry-After')
  const start = Date.now()
  await sink.close()
  await write
  t.ok(Date.now() - start < 20_000, 'close() did not wait out the 30 s Retry-After')
  t.equal(server.received.length, 2, 'the batch had one last attempt')
  t.match(readFileSync(deadLetter, 'utf8'), /"reason":"closing"/, 'then went to the dead-letter file')
  t.equal(sink.stats.inFlight, 0, 'nothing in flight')
})

t.test('a 2xx is delivered even when reading the rest of its body fails: not sent twice', async (t) => {
  for (const answer of ['cut', 'slow-body'] as const) {
    const server = await startServer(t)
    server.answers.push(answer)
    const sink = createWebhookSink({
      url: server.url,
      preset: 'ndjson',
      timeoutMs: 500,
      retry: { retries: 3, minDelayMs: 1, maxDelayMs: 10 },
      batch: { maxWaitMs: 0 },
    })
    await sink.write(entries(3))
    await sink.write(entries(2, 4))
    await sink.close()
    t.same(
      server.received.map((r) => ndjson(r.body).map((e) => e['seq'])),
      [
        [1, 2, 3],
        [4, 5],
      ],
      `${answer}: the first batch was sent once (its 200 counts), then the next`,
    )
    t.equal(sink.stats.retries, 0, `${answer}: nothing was retried`)
    t.equal(sink.stats.delivered, 5, `${answer}: all delivered`)
    await server.close()
  }
})
