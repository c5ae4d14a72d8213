// The web view's server over real HTTP on 127.0.0.1: the page and its
// security headers, the SSE stream (history first, then live; filters applied
// on the server; Last-Event-ID resume; monotonic ids), the access token, the
// Host check, connection limits, and a stalled client that never reads.

import { request } from 'node:http'
import { connect } from 'node:net'
import { createEntry, isLogkitError, type LogEntry } from '@logkit/core'
import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { createHttpSink, type HttpSinkOptions, SECURITY_HEADERS } from '../src/index.js'
import { openSse } from './helpers.js'

const TOKEN = 'tok-0123456789abcdef-secret'

function entries(n: number, from = 1, init: (i: number) => Partial<LogEntry> = () => ({})): LogEntry[] {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k
    return createEntry({
      msg: `entry ${i}`,
      source: i % 2 === 0 ? 'api' : 'worker',
      level: i % 3 === 0 ? 50 : 30,
      seq: i,
      pid: 4242,
      fields: { i },
      ...init(i),
    })
  })
}

async function sink(t: Tap.Test, options: HttpSinkOptions = {}) {
  const s = await createHttpSink({ port: 0, ...options })
  t.teardown(() => s.close())
  return s
}

/** A raw GET with a chosen Host header; resolves with status, headers and body. */
function raw(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on('error', reject)
      req.end()
    },
  )
}

declare namespace Tap {
  type Test = Parameters<Parameters<typeof t.test>[1]>[0]
}

t.test('the page, its script and style are served with the security headers', async (t) => {
  const s = await sink(t)
  for (const [path, type] of [
    ['', 'text/html'],
    ['app.js', 'text/javascript'],
    ['style.css', 'text/css'],
  ] as const) {
    const res = await fetch(`${s.server.url}${path}`)
    t.equal(res.status, 200, `/${path} is served`)
    t.match(res.headers.get('content-type'), type, `/${path} as ${type}`)
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      t.equal(res.headers.get(name), value, `/${path} carries ${name}`)
    }
  }
  const html = await (await fetch(s.server.url)).text()
  t.notMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'the page has no inline script')
  t.notMatch(html, /\son\w+=/, 'the page has no inline event handler')
  t.match(
    SECURITY_HEADERS['Content-Security-Policy'],
    /script-src 'self'/,
    'scripts only from the page itself',
  )
  t.equal((await fetch(`${s.server.url}nothing`)).status, 404, 'an unknown path is 404')
  t.equal((await fetch(s.server.url, { method: 'POST' })).status, 405, 'a POST is refused')
  t.equal((await fetch(`${s.server.url}events?level=loud`)).status, 400, 'an unknown level is a bad filter')
})

t.test('/events sends the history, then live entries, with ids that grow by one', async (t) => {
  const s = await sink(t, { history: 100 })
  s.write(entries(10))
  const stream = await openSse(`${s.server.url}events`)
  t.teardown(() => stream.close())
  t.equal(stream.status, 200, 'the stream opens')
  await waitFor(() => stream.events.some((e) => e.event === 'live'), 'the end of the history')
  const live = stream.events.findIndex((e) => e.event === 'live')
  t.equal(
    stream.events.slice(0, live).filter((e) => e.event === 'entry').length,
    10,
    'the 10 entries of the history first',
  )
  s.write(entries(5, 11))
  await waitFor(() => stream.entries().length === 15, 'the live entries')
  t.same(
    stream.entries().map((e) => e.msg),
    Array.from({ length: 15 }, (_, k) => `entry ${k + 1}`),
    'history then live, in order',
  )
  t.same(
    stream.entries().map((e) => e.id),
    Array.from({ length: 15 }, (_, k) => k + 1),
    'event ids are 1, 2, 3, … with no gap',
  )
  t.same(
    stream.events.filter((e) => e.event === 'entry').map((e) => Number(e.id?.split('-')[1])),
    stream.entries().map((e) => e.id),
    'the SSE id of each event is the server’s epoch and the entry id',
  )
  t.equal(
    new Set(stream.events.filter((e) => e.event === 'entry').map((e) => e.id?.split('-')[0])).size,
    1,
    'one epoch for the whole run',
  )
})

t.test('filters run on the server: level at or above, sources, text', async (t) => {
  const s = await sink(t, { history: 100 })
  s.write(entries(30))
  const cases: [string, (e: { msg: string; level: number; source: string }) => boolean][] = [
    ['level=error', (e) => e.level >= 50],
    ['level=50', (e) => e.level >= 50],
    ['source=api', (e) => e.source === 'api'],
    ['source=api,worker', () => true],
    ['q=ENTRY%202', (e) => e.msg.startsWith('entry 2')],
    ['level=error&source=worker&q=1', (e) => e.level >= 50 && e.source === 'worker' && e.msg.includes('1')],
  ]
  const all = entries(30).map((e) => ({ msg: e.msg, level: e.level, source: e.source }))
  for (const [query, keep] of cases) {
    const stream = await openSse(`${s.server.url}events?${query}`)
    await waitFor(() => stream.events.some((e) => e.event === 'live'), `the history of ${query}`)
    stream.close()
    const want = all.filter(keep).map((e) => e.msg)
    t.ok((want.length > 0 && want.length < 30) || query === 'source=api,worker', `${query} keeps some`)
    t.same(
      stream.entries().map((e) => e.msg),
      want,
      `${query}: exactly the entries that match`,
    )
  }
})

t.test(
  'Last-Event-ID resumes after that id; one older than the history is told what it missed',
  async (t) => {
    const s = await sink(t, { history: 10 })
    s.write(entries(25))
    const first = await openSse(`${s.server.url}events`)
    await waitFor(() => first.events.some((e) => e.event === 'live'), 'the history')
    first.close()
    const epoch = first.events.find((e) => e.event === 'entry')?.id?.split('-')[0]
    const resumed = await openSse(`${s.server.url}events`, { 'Last-Event-ID': `${epoch}-20` })
    await waitFor(() => resumed.events.some((e) => e.event === 'live'), 'the resumed history')
    resumed.close()
    t.same(
      resumed.entries().map((e) => e.id),
      [21, 22, 23, 24, 25],
      'only what came after id 20',
    )
    t.notOk(
      resumed.events.some((e) => e.event === 'missed'),
      'nothing missed: 21 is in the history',
    )
    const late = await openSse(`${s.server.url}events`, { 'Last-Event-ID': `${epoch}-5` })
    await waitFor(() => late.events.some((e) => e.event === 'live'), 'the late history')
    late.close()
    const missed = late.events.find((e) => e.event === 'missed')
    t.same(
      JSON.parse(missed?.data ?? '{}'),
      { count: 10, reason: 'history' },
      'ids 6 to 15 were let go: 10 missed',
    )
    t.same(late.entries()[0]?.id, 16, 'then the history from its oldest, 16')
  },
)

t.test('without a token: loopback only, and only a loopback Host (no DNS rebinding)', async (t) => {
  const s = await sink(t)
  const url = `http://127.0.0.1:${s.server.port}/status`
  t.equal((await raw(url)).status, 200, 'Host 127.0.0.1 is served')
  t.equal((await raw(url, { Host: `localhost:${s.server.port}` })).status, 200, 'Host localhost is served')
  const rebound = await raw(url, { Host: 'attacker.example:80' })
  t.equal(rebound.status, 403, 'another Host is refused')
})

t.test(
  'with a token: 401 without it; Bearer or query accepted; the link with ?token= opens a session',
  async (t) => {
    const s = await sink(t, { token: TOKEN })
    const base = s.server.url
    for (const path of ['', 'status', 'events', 'app.js']) {
      const res = await raw(`${base}${path}`)
      t.equal(res.status, 401, `/${path} without the token is 401`)
      t.notMatch(res.body, TOKEN, 'the answer does not show the token')
    }
    t.equal(
      (await raw(`${base}status`, { Authorization: 'Bearer wrong-token-0123456789' })).status,
      401,
      'a wrong token is 401',
    )
    t.equal(
      (await raw(`${base}status`, { Authorization: `Bearer ${TOKEN}` })).status,
      200,
      'Authorization: Bearer works',
    )
    t.equal((await raw(`${base}status?token=${TOKEN}`)).status, 200, '?token= works')
    const name = `logkit_session_${s.server.port}`
    t.equal(
      (await raw(`${base}status`, { Cookie: `${name}=${TOKEN}` })).status,
      401,
      'the token itself is no session',
    )
    const link = await raw(`${base}?token=${TOKEN}&x=1`)
    t.equal(link.status, 200, 'the link with the token answers a page (not a redirect: see the browser test)')
    t.match(
      link.body,
      '<meta http-equiv="refresh" content="0;url=/?x=1">',
      'that refreshes to the same page without the token',
    )
    t.notMatch(link.body, TOKEN, 'the page does not show the token')
    const cookie = String(link.headers['set-cookie'])
    t.notMatch(cookie, TOKEN, 'the cookie does not carry the token')
    const session = new RegExp(`^${name}=([A-Za-z0-9_-]{43});`).exec(cookie)?.[1]
    t.ok(session !== undefined, `it sets a session cookie named after the port (${name}), a random id`)
    t.match(cookie, /HttpOnly/, 'HttpOnly: the page script never sees it')
    t.match(cookie, /SameSite=Strict/, 'SameSite=Strict')
    t.match(cookie, /Max-Age=\d+/, 'it expires')
    t.equal(
      (await raw(`${base}status`, { Cookie: `a=b; ${name}=${session}` })).status,
      200,
      'the session cookie works',
    )
    t.equal(
      (await raw(`${base}status`, { Cookie: `logkit_session_1=${session}` })).status,
      401,
      'under another port’s name it is not this view’s',
    )
    const other = await raw(`${base}?token=${TOKEN}`)
    t.not(String(other.headers['set-cookie']), cookie, 'every link opens a session of its own')
    const status = await raw(`${base}status`, { Authorization: `Bearer ${TOKEN}` })
    t.notMatch(status.body, TOKEN, 'the status does not show the token')
    t.equal(JSON.parse(status.body).tokenRequired, true, 'the status says a token is required')
    const stream = await openSse(`${base}events`, { Cookie: `${name}=${session}` })
    stream.close()
    t.equal(stream.status, 200, 'EventSource, with the cookie, gets the stream')
  },
)

t.test('connection limits: 429 per address, 503 in total, with a clear message', async (t) => {
  const s = await sink(t, { maxClientsPerIp: 2, maxClients: 3 })
  const open = [await openSse(`${s.server.url}events`), await openSse(`${s.server.url}events`)]
  t.teardown(() => {
    for (const o of open) o.close()
  })
  const third = await raw(`${s.server.url}events`)
  t.equal(third.status, 429, 'a third stream from 127.0.0.1 is 429')
  t.match(third.body, /too many live streams from this address/, 'saying why')
  t.equal(third.headers['retry-after'], '5', 'with Retry-After')
  // Every client here comes from 127.0.0.1: the total limit is checked on a view whose per-address limit is higher.
  const s2 = await sink(t, { maxClientsPerIp: 5, maxClients: 1 })
  const first = await openSse(`${s2.server.url}events`)
  open.push(first)
  const second = await raw(`${s2.server.url}events`)
  t.equal(second.status, 503, 'beyond maxClients in total is 503')
  t.match(second.body, /live streams already/, 'saying why')
  first.close()
  await waitFor(
    () => ((s2.server.status()['clients'] as unknown[]).length === 0 ? true : undefined),
    'the closed stream to be let go',
  )
  const again = await openSse(`${s2.server.url}events`)
  open.push(again)
  t.equal(again.status, 200, 'once a stream closes, a new one is served')
  const refused = s.server.status()['refused'] as { perIp: number }
  t.equal(refused.perIp, 1, 'the refusal is counted in the status')
})

t.test(
  'a client that never reads: its queue stays within its bound, the sink never waits, and it is told what it missed',
  async (t) => {
    const s = await sink(t, { clientQueue: 50, history: 0 })
    const socket = connect(s.server.port, '127.0.0.1')
    t.teardown(() => socket.destroy())
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.pause() // never reads: the kernel's buffers fill, then the server's socket
    socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    await waitFor(() => (s.server.status()['clients'] as unknown[]).length === 1, 'the stream to open')
    const pad = 'p'.repeat(2000)
    let written = 0
    // Write until the client is stalled and its queue has overflowed at least once.
    await waitFor(
      () => {
        const batch = entries(200, written + 1, () => ({ msg: `entry ${pad}` }))
        const result = s.write(batch)
        t.equal(result, undefined, 'write() returns at once, with nothing to wait on')
        written += 200
        const c = (s.server.status()['clients'] as { missed: number }[])[0]
        return c !== undefined && c.missed > 0
      },
      'the stalled client to miss entries',
      120_000,
    )
    const client = (
      s.server.status()['clients'] as {
        queued: number
        maxQueue: number
        peakQueued: number
        stalled: boolean
        missed: number
      }[]
    )[0]!
    t.ok(client.stalled, 'the client is stalled')
    t.ok(
      client.peakQueued <= client.maxQueue,
      `its queue never held more than ${client.maxQueue} (peak ${client.peakQueued})`,
    )
    t.ok(client.queued <= 50, 'its queue is within the bound now')
    t.equal(s.server.recent().length, 0, 'history 0 keeps nothing')
    // Now read: the socket drains, and the first thing after is the count it missed.
    let text = ''
    socket.setEncoding('utf8').on('data', (d: string) => (text += d))
    socket.resume()
    s.write(entries(1, written + 1, () => ({ msg: 'after the stall' })))
    await waitFor(() => text.includes('event: missed'), 'the missed event')
    const missed = /event: missed\ndata: (.*)\n/.exec(text)
    const told = JSON.parse(missed?.[1] ?? '{}') as { count: number; reason: string }
    t.equal(told.reason, 'slow', 'it is told it was too slow')
    t.ok(told.count > 0, `and how many it missed (${told.count})`)
    // Entries offered while it was still behind were missed too; one offered after it caught up arrives.
    await waitFor(
      () => {
        if (text.includes('after the stall')) return true
        s.write(entries(1, written + 1, () => ({ msg: 'after the stall' })))
        return false
      },
      'live entries again',
      60_000,
    )
    const final = (s.server.status()['clients'] as { missed: number }[])[0]!
    t.ok(told.count <= final.missed, 'what it was told is counted in the status')
  },
)

t.test('a port already taken is LOGKIT_ERR_HTTP_LISTEN', async (t) => {
  const s = await sink(t)
  await t.rejects(
    createHttpSink({ port: s.server.port }),
    { code: 'LOGKIT_ERR_HTTP_LISTEN' },
    'the second listener is refused',
  )
  await t.rejects(
    createHttpSink({ port: s.server.port }).then(
      () => undefined,
      (err: unknown) => {
        throw isLogkitError(err) ? new Error('a LogkitError') : err
      },
    ),
    { message: 'a LogkitError' },
    'a LogkitError',
  )
})
