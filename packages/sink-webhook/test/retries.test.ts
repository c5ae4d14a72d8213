// Failures against a real HTTP server: 5xx retried then delivered once,
// Retry-After honoured, Discord's retry_after and X-RateLimit-*, a 4xx not
// retried but reported once and dead-lettered, a 413 split in two, an
// endpoint down for the whole budget (everything in the dead-letter file),
// then replay once it is back.

import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { isLogkitError } from '@logkit/core'
import t from 'tap'
import { createWebhookSink, HEADER_KEY, replay } from '../src/index.js'
import { diagnostics, entries, ndjson, startServer } from './helpers.js'

const fast = { retries: 5, minDelayMs: 1, maxDelayMs: 20 }

t.test('500s then success: retried, delivered once', async (t) => {
  const server = await startServer(t)
  server.answers.push({ status: 500 }, { status: 502 }, { status: 503 })
  const d = diagnostics()
  const sink = createWebhookSink(
    { url: server.url, preset: 'ndjson', retry: fast, batch: { maxWaitMs: 0 } },
    { report: d.report },
  )
  await sink.write(entries(5))
  await sink.close()
  t.equal(server.received.length, 4, 'three failures, then the one that got through')
  t.same(ndjson(server.received[3]?.body ?? Buffer.alloc(0)).length, 5, 'the same 5 entries each time')
  t.equal(sink.stats.delivered, 5, 'delivered once')
  t.equal(sink.stats.retries, 3, 'three retries counted')
  t.same(d.codes(), [], 'nothing to report: it got through within its budget')
})

t.test('429 with Retry-After: 2 makes the next attempt wait about 2 s', async (t) => {
  const server = await startServer(t)
  server.answers.push({ status: 429, headers: { 'retry-after': '2' } })
  const sink = createWebhookSink({ url: server.url, retry: fast, batch: { maxWaitMs: 0 } })
  await sink.write(entries(1))
  await sink.close()
  const [first, second] = server.received
  const waited = (second?.at ?? 0) - (first?.at ?? 0)
  t.ok(waited >= 1800, `the retry came ${waited} ms later (Retry-After: 2, backoff at most 20 ms)`)
})

t.test('503 with an HTTP-date Retry-After is honoured too, capped by maxRetryAfterMs', async (t) => {
  const server = await startServer(t)
  const date = new Date(Date.now() + 60 * 60 * 1000).toUTCString()
  server.answers.push({ status: 503, headers: { 'retry-after': date } })
  const sink = createWebhookSink({
    url: server.url,
    retry: { ...fast, maxRetryAfterMs: 700 },
    batch: { maxWaitMs: 0 },
  })
  await sink.write(entries(1))
  await sink.close()
  const waited = (server.received[1]?.at ?? 0) - (server.received[0]?.at ?? 0)
  t.ok(waited >= 650, `waited ${waited} ms: the hour asked for, capped at 700 ms`)
  t.equal(server.received.length, 2, 'and then delivered')
})

t.test("Discord's retry_after body field and X-RateLimit-* headers are respected", async (t) => {
  const server = await startServer(t)
  server.answers.push(
    {
      status: 429,
      headers: { 'content-type': 'application/json' },
      body: '{"message":"rate","retry_after":0.6}',
    },
    { status: 204, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.5' } },
  )
  const sink = createWebhookSink({ url: server.url, preset: 'discord', retry: fast, batch: { maxWaitMs: 0 } })
  await sink.write(entries(1))
  await sink.write(entries(1, 2))
  await sink.close()
  const at = server.received.map((r) => r.at)
  t.equal(at.length, 3, '429, then the retry, then the next message')
  t.ok(
    (at[1] as number) - (at[0] as number) >= 550,
    `retry_after 0.6 s was waited (${(at[1] as number) - (at[0] as number)} ms)`,
  )
  t.ok(
    (at[2] as number) - (at[1] as number) >= 450,
    `an empty bucket held the next request for its reset-after 0.5 s (${(at[2] as number) - (at[1] as number)} ms)`,
  )
})

t.test(
  '400: not retried, reported once with status and excerpt, dead-lettered; replay after recovery',
  async (t) => {
    const dir = t.testdir()
    const deadLetter = join(dir, 'dead.ndjson')
    const server = await startServer(t)
    server.answers.push({ status: 400, body: 'invalid_payload: missing text field' })
    const d = diagnostics()
    const options = {
      url: server.url,
      preset: 'ndjson' as const,
      retry: fast,
      batch: { maxWaitMs: 0 },
      deadLetter,
    }
    const sink = createWebhookSink(options, { report: d.report, id: 'alerts' })
    await sink.write(entries(3))
    await sink.write(entries(2, 4))
    await sink.close()
    t.equal(server.received.length, 2, 'the refused request was not retried; the next one went through')
    t.same(d.codes(), ['rejected'], 'reported once')
    const rejected = d.seen[0]
    t.equal(rejected?.details?.['status'], 400, 'with the status')
    t.equal(
      rejected?.details?.['excerpt'],
      'invalid_payload: missing text field',
      'and an excerpt of the answer',
    )
    t.equal(rejected?.count, 3, 'counting its entries')
    t.equal(statSync(deadLetter).mode & 0o777, 0o600, 'the dead-letter file is 0600')
    const lines = readFileSync(deadLetter, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    t.same(lines[0][HEADER_KEY].status, 400, 'a header line says why')
    t.equal(
      lines[0][HEADER_KEY].endpoint,
      `http://127.0.0.1:${server.port}`,
      'and names the endpoint by scheme and host',
    )
    t.same(
      lines.slice(1).map((l) => l.msg),
      ['entry 1', 'entry 2', 'entry 3'],
      'then the entries as pino lines',
    )
    t.same(sink.stats.rejected, 3, 'stats count the rejected entries')
    t.same(sink.stats.deadLettered, 3, 'and the dead-lettered ones')

    // The server is fixed: replay sends them once and empties the file.
    const before = server.received.length
    const result = await replay(deadLetter, options)
    t.same(
      result,
      { records: 1, entries: 3, delivered: 3, deadLettered: 0, unparsable: 0 },
      'replay delivered the 3 entries',
    )
    t.same(
      ndjson(server.received[before]?.body ?? Buffer.alloc(0)).map((e) => [e['msg'], e['seq'], e['i']]),
      [
        ['entry 1', 1, 1],
        ['entry 2', 2, 2],
        ['entry 3', 3, 3],
      ],
      'the same entries, fields and all',
    )
    t.equal(server.received.length, before + 1, 'in one request, once')
    t.throws(() => statSync(deadLetter), 'the dead-letter file is gone: nothing is left in it')
    await t.rejects(
      replay(deadLetter, options),
      { code: 'LOGKIT_ERR_WEBHOOK_REPLAY' },
      'replaying it again says so',
    )
  },
)

t.test(
  'server down for the whole retry budget: everything in the dead-letter file, nothing lost',
  async (t) => {
    const dir = t.testdir()
    const deadLetter = join(dir, 'dead.ndjson')
    const server = await startServer(t)
    const url = server.url
    await server.close()
    const d = diagnostics()
    const options = {
      url,
      preset: 'ndjson' as const,
      retry: { ...fast, retries: 3 },
      batch: { maxEntries: 100, maxWaitMs: 0 },
      deadLetter,
    }
    const sink = createWebhookSink(options, { report: d.report })
    for (let i = 0; i < 10; i++) await sink.write(entries(100, 1 + i * 100))
    await sink.close()
    const text = readFileSync(deadLetter, 'utf8')
    const seqs = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l[HEADER_KEY] === undefined)
      .map((l) => l.seq)
    t.same(
      seqs,
      Array.from({ length: 1000 }, (_, i) => i + 1),
      'all 1000 entries, in order, in the dead-letter file',
    )
    t.equal(d.codes().filter((c) => c === 'delivery_failing').length, 1, 'failing is reported once')
    t.equal(
      d.codes().filter((c) => c === 'dead_lettered').length,
      10,
      'each dead-lettered request is reported',
    )
    t.equal(sink.stats.deadLettered, 1000, 'and counted')
    t.ok(sink.stats.failing, 'the sink knows it is failing')

    // Replay while it is still down: everything goes back, nothing is lost.
    const again = await replay(deadLetter, options)
    t.same(again.deadLettered, 1000, 'replay to a dead endpoint puts everything back')
    t.equal(
      readFileSync(deadLetter, 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.includes(HEADER_KEY)).length,
      1000,
      'and the file holds the 1000 entries again',
    )
  },
)

t.test(
  'without a dead-letter file: a 4xx rejects as not retryable, spent retries as retryable',
  async (t) => {
    const server = await startServer(t)
    server.answers.push({ status: 404 }, { status: 500 }, { status: 500 })
    const sink = createWebhookSink({
      url: server.url,
      retry: { ...fast, retries: 1 },
      batch: { maxWaitMs: 0 },
    })
    const refused = await sink.write(entries(1)).catch((err: unknown) => err)
    t.ok(isLogkitError(refused, 'LOGKIT_ERR_WEBHOOK_REJECTED'), 'a 404 is refused')
    t.equal((refused as { retryable: boolean }).retryable, false, 'and not for the runtime to retry')
    const spent = await sink.write(entries(1)).catch((err: unknown) => err)
    t.ok(isLogkitError(spent, 'LOGKIT_ERR_WEBHOOK_UNDELIVERED'), 'spent retries reject the write')
    t.equal((spent as { retryable: boolean }).retryable, true, 'for the runtime to retry by its policy')
    await sink.close()
    await t.rejects(
      sink.write(entries(1)),
      { code: 'LOGKIT_ERR_WEBHOOK_CLOSED' },
      'a write after close() is refused',
    )
  },
)

t.test('413: the request is split in two, and each half sent', async (t) => {
  const server = await startServer(t)
  server.answers.push({ status: 413 })
  const sink = createWebhookSink({ url: server.url, preset: 'ndjson', batch: { maxWaitMs: 0 } })
  await sink.write(entries(10))
  await sink.close()
  t.same(
    server.received.map((r) => ndjson(r.body).length),
    [10, 5, 5],
    'refused whole, accepted in halves',
  )
  t.equal(sink.stats.delivered, 10, 'every entry delivered once')
})

t.test('an entry larger than maxBytes alone is dead-lettered, never sent', async (t) => {
  const dir = t.testdir()
  const deadLetter = join(dir, 'dead.ndjson')
  const server = await startServer(t)
  const sink = createWebhookSink({ url: server.url, batch: { maxBytes: 1000, maxWaitMs: 0 }, deadLetter })
  await sink.write([...entries(1), ...entries(1, 2, { msg: 'x'.repeat(2000) }), ...entries(1, 3)])
  await sink.close()
  t.same(
    server.received.flatMap((r) => JSON.parse(r.body.toString()).map((e: { seq: number }) => e.seq)),
    [1, 3],
    'the others are sent',
  )
  t.match(
    readFileSync(deadLetter, 'utf8'),
    /"reason":"too_large"/,
    'the large one is in the dead-letter file',
  )
})

t.test('a Discord webhook that answers 404 is no longer used', async (t) => {
  const dir = t.testdir()
  const deadLetter = join(dir, 'dead.ndjson')
  const server = await startServer(t)
  server.answers.push({ status: 404, body: '{"message": "Unknown Webhook", "code": 10015}' })
  const d = diagnostics()
  const sink = createWebhookSink(
    { url: server.url, preset: 'discord', deadLetter, batch: { maxWaitMs: 0 } },
    { report: d.report },
  )
  await sink.write(entries(1))
  await sink.write(entries(1, 2))
  await sink.close()
  t.equal(server.received.length, 1, 'one request, then no more')
  t.ok(sink.stats.gone, 'the sink knows the webhook is gone')
  t.same(
    d.codes(),
    ['webhook_gone', 'rejected', 'dead_lettered'],
    'reported: gone, the refusal, then the next entry dead-lettered',
  )
})

t.test('dead-letter file: bounded, rotated, what rotation removes is counted and reported', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'dead.ndjson')
  const server = await startServer(t, { status: 400 })
  const d = diagnostics()
  const sink = createWebhookSink(
    {
      url: server.url,
      preset: 'ndjson',
      batch: { maxWaitMs: 0 },
      deadLetter: { path, maxBytes: 2000, keep: 2 },
    },
    { report: d.report },
  )
  for (let i = 0; i < 20; i++) await sink.write(entries(5, 1 + i * 5))
  await sink.close()
  const files = [path, `${path}.1`, `${path}.2`]
  for (const f of files) t.ok(statSync(f).size <= 2000, `${f.slice(dir.length)} is within maxBytes`)
  t.throws(() => statSync(`${path}.3`), 'no file beyond keep')
  const kept = files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.includes(HEADER_KEY)),
  )
  const discarded = d.seen
    .filter((x) => x.code === 'dead_letter_discarded')
    .reduce((n, x) => n + (x.count ?? 0), 0)
  t.equal(kept.length + discarded, 100, 'every entry is either kept or counted as discarded')
  t.equal(sink.stats.deadLetterDiscarded, discarded, 'stats count the discarded ones')
  t.ok(discarded > 0, 'the bound was reached')
})

t.test('a write retried by the runtime does not send again what was delivered', async (t) => {
  const server = await startServer(t)
  server.answers.push({ status: 200 }, { status: 500 })
  const sink = createWebhookSink({
    url: server.url,
    preset: 'ndjson',
    retry: { retries: 0 },
    batch: { maxEntries: 2, maxWaitMs: 0 },
  })
  const batch = entries(6)
  const failed = await sink.write(batch).catch((err: unknown) => err)
  t.equal((failed as { retryable?: boolean }).retryable, true, 'the write fails as retryable (the 500)')
  // The runtime retries a write with the same batch (sink-runner.ts #write).
  await sink.write(batch)
  await sink.close()
  t.same(
    server.received.map((r) => ndjson(r.body).map((e) => e['seq'])),
    [
      [1, 2],
      [3, 4],
      [3, 4],
      [5, 6],
    ],
    'the retry sent the failed request and the rest, not the delivered one',
  )
  t.equal(sink.stats.delivered, 6, 'each entry delivered once')
})

t.test('a 413 half delivered is not sent again when the write is retried', async (t) => {
  const server = await startServer(t)
  server.answers.push({ status: 413 }, { status: 200 }, { status: 500 })
  const sink = createWebhookSink({
    url: server.url,
    preset: 'ndjson',
    retry: { retries: 0 },
    batch: { maxWaitMs: 0 },
  })
  const batch = entries(4)
  await sink.write(batch).catch(() => {})
  await sink.write(batch)
  await sink.close()
  t.same(
    server.received.map((r) => ndjson(r.body).map((e) => e['seq'])),
    [
      [1, 2, 3, 4],
      [1, 2],
      [3, 4],
      [3, 4],
    ],
    'the retry sent only the half that failed',
  )
})

t.test(
  'concurrency > 1: a refusal beside a failure that may pass rejects the write as retryable',
  async (t) => {
    const server = await startServer(t)
    // The first request to arrive is refused at once; the other fails twice (its retry after a backoff).
    server.answers.push({ status: 400 }, { status: 500 }, { status: 500 })
    const sink = createWebhookSink({
      url: server.url,
      preset: 'ndjson',
      concurrency: 2,
      retry: { retries: 1, minDelayMs: 50, maxDelayMs: 50 },
      batch: { maxEntries: 2, maxWaitMs: 0 },
    })
    const batch = entries(4)
    const err = await sink.write(batch).catch((e: unknown) => e)
    t.ok(
      isLogkitError(err, 'LOGKIT_ERR_WEBHOOK_UNDELIVERED'),
      'the write rejects with the failure that may pass',
    )
    t.equal((err as { retryable?: boolean }).retryable, true, 'as retryable: the runtime must not drop it')
    const again = await sink.write(batch).catch((e: unknown) => e)
    t.equal(server.received.length, 4, 'the retry sent only the payload that had failed, not the refused one')
    t.ok(isLogkitError(again, 'LOGKIT_ERR_WEBHOOK_REJECTED'), 'then the write rejects with the refusal')
    t.equal((again as { retryable?: boolean }).retryable, false, 'not retryable')
    t.equal(sink.stats.rejected, 2, 'the refused entries counted once')
    await sink.close()
  },
)

t.test('concurrency 1: a refused request does not stop the rest of the write', async (t) => {
  const server = await startServer(t)
  server.answers.push({ status: 400 })
  const sink = createWebhookSink({
    url: server.url,
    preset: 'ndjson',
    retry: { retries: 0 },
    batch: { maxEntries: 2, maxWaitMs: 0 },
  })
  const err = await sink.write(entries(6)).catch((e: unknown) => e)
  await sink.close()
  t.same(
    server.received.map((r) => ndjson(r.body).map((e) => e['seq'])),
    [
      [1, 2],
      [3, 4],
      [5, 6],
    ],
    'the payloads after the refused one were sent, in order',
  )
  t.equal(sink.stats.delivered, 4, 'and delivered')
  t.ok(isLogkitError(err, 'LOGKIT_ERR_WEBHOOK_REJECTED'), 'the write still says one was refused')
})
