// The URL's path and query, header values and credentials are secrets: no
// error, diagnostic, stats, dead-letter header or quoted answer shows them,
// even an answer that echoes them back.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { createWebhookSink } from '../src/index.js'
import { diagnostics, entries, leaks, SECRET_PATH, startServer } from './helpers.js'

const HEADER_SECRET = 'hdr-secret-value-77'
const TOKEN = 'bearer-token-secret-88'

t.test('errors, diagnostics, stats and the dead-letter file show scheme and host only', async (t) => {
  const server = await startServer(t)
  const deadLetter = join(t.testdir(), 'dead.ndjson')
  // An answer that quotes the request back, secrets and all.
  server.answers.push(
    {
      status: 400,
      body: `bad request to ${SECRET_PATH}?token=query-secret-42 with ${TOKEN} and ${HEADER_SECRET}`,
    },
    { status: 500, body: `error at ${SECRET_PATH}` },
  )
  const d = diagnostics()
  const options = {
    url: server.url,
    headers: { 'X-Secret': HEADER_SECRET },
    auth: { bearer: TOKEN },
    retry: { retries: 0 },
    batch: { maxWaitMs: 0 },
  }
  const withDl = createWebhookSink({ ...options, deadLetter }, { report: d.report })
  await withDl.write(entries(1))
  await withDl.write(entries(1, 2))
  await withDl.close()
  const without = createWebhookSink(options, { report: d.report })
  server.fallback = { status: 400, body: `nope ${SECRET_PATH}` }
  const err = await without.write(entries(1)).catch((e: unknown) => e as Error)
  await without.close()
  await server.close()
  const refused = createWebhookSink(options, { report: d.report })
  const down = await refused.write(entries(1)).catch((e: unknown) => e as Error)
  await refused.close()

  const extra = [HEADER_SECRET, TOKEN, Buffer.from(TOKEN).toString('base64')]
  const shown = [
    JSON.stringify(d.seen),
    String(err),
    JSON.stringify(err),
    String(down),
    JSON.stringify(down),
    JSON.stringify(withDl.stats),
    readFileSync(deadLetter, 'utf8'),
  ].join('\n')
  t.same(leaks(shown, server, extra), [], 'no secret anywhere')
  t.match(shown, `http://127.0.0.1:${server.port}`, 'the endpoint is named by scheme and host')
  t.match(shown, /\[redacted\]/, 'an answer that echoed a secret is quoted redacted')
  t.ok(d.seen.length >= 3, 'there were diagnostics to check')
})

t.test(
  'an answer quoting one path segment or query value, decoded or JSON-escaped, is redacted',
  async (t) => {
    const server = await startServer(t)
    const deadLetter = join(t.testdir(), 'dead.ndjson')
    const url = `http://127.0.0.1:${server.port}/hooks/seg%2Dment%2Dsecret/T0SECRET/?key=val%20ue%20secret&x=1`
    server.fallback = {
      status: 400,
      body: JSON.stringify({
        error: 'unknown hook',
        segment: 'seg-ment-secret',
        raw: 'seg%2Dment%2Dsecret',
        value: 'val ue secret',
        escaped: '\\/hooks\\/seg%2Dment%2Dsecret\\/T0SECRET\\/',
      }).replaceAll('/', '\\/'),
    }
    const d = diagnostics()
    const sink = createWebhookSink(
      { url, retry: { retries: 0 }, batch: { maxWaitMs: 0 }, deadLetter },
      { report: d.report },
    )
    await sink.write(entries(1))
    await sink.close()
    const shown = `${JSON.stringify(d.seen)}\n${readFileSync(deadLetter, 'utf8')}`
    for (const secret of [
      'seg-ment-secret',
      'seg%2Dment%2Dsecret',
      'val ue secret',
      'val%20ue%20secret',
      'T0SECRET',
    ])
      t.notOk(shown.includes(secret), `${secret} is not shown`)
    t.match(shown, /unknown hook/, 'the rest of the answer is quoted')
  },
)

t.test('a path that does not percent-decode (%ZZ) is accepted and redacted as written', async (t) => {
  const server = await startServer(t)
  const deadLetter = join(t.testdir(), 'dead.ndjson')
  const url = `http://127.0.0.1:${server.port}/a%ZZsecretpath`
  server.fallback = { status: 400, body: 'no hook /a%ZZsecretpath here' }
  const d = diagnostics()
  const sink = createWebhookSink({ url, batch: { maxWaitMs: 0 }, deadLetter }, { report: d.report })
  await sink.write(entries(1))
  await sink.close()
  t.equal(server.received[0]?.url, '/a%ZZsecretpath', 'the request went to the path as written')
  const shown = `${JSON.stringify(d.seen)}\n${readFileSync(deadLetter, 'utf8')}`
  t.notOk(shown.includes('ZZsecretpath'), 'and it is redacted')
})
