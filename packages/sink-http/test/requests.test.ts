// What anyone who can reach the port may send, before any token is checked:
// request targets that are no URL, a garbled cookie, HEAD on the stream, and
// requests a page of another site makes. Each is answered; none ends the
// server (a throw in the request handler would end the collector).

import { connect } from 'node:net'
import { createEntry } from '@logkit/core'
import t from 'tap'
import { createHttpSink, type HttpSinkOptions } from '../src/index.js'

const TOKEN = 'tok-0123456789abcdef-secret'

async function sink(t: Tap.Test, options: HttpSinkOptions = {}) {
  const s = await createHttpSink({ port: 0, ...options })
  t.teardown(() => s.close())
  return s
}

declare namespace Tap {
  type Test = Parameters<Parameters<typeof t.test>[1]>[0]
}

/** Sends `head` as is over a raw socket; resolves with what came back until the server closed or 2 lines of status. */
function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (d: string) => {
      text += d
      if (/\r\n\r\n/.test(text)) socket.destroy()
    })
    socket.on('close', () => resolve(text))
    socket.on('error', reject)
    socket.write(head)
  })
}

const statusOf = (text: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)

t.test('a request target that is no URL is 400, and the server goes on', async (t) => {
  const s = await sink(t)
  for (const target of ['http://[::1', 'http://a:99999/']) {
    const answer = await rawRequest(s.server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    t.equal(statusOf(answer), 400, `GET ${target} is answered 400`)
    const status = await fetch(`${s.server.url}status`)
    t.equal(status.status, 200, `after GET ${target}, the server still answers`)
  }
})

t.test('a garbled session cookie counts as none: 401, and the server goes on', async (t) => {
  const s = await sink(t, { token: TOKEN })
  const name = `logkit_session_${s.server.port}`
  const answer = await rawRequest(
    s.server.port,
    `GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${name}=%E0%A4%A\r\n\r\n`,
  )
  t.equal(statusOf(answer), 401, 'the cookie %E0%A4%A is no session: 401')
  const answer2 = await rawRequest(
    s.server.port,
    `GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: logkit_token=%E0%A4%A; ${name}=%E0%A4%A\r\n\r\n`,
  )
  t.equal(statusOf(answer2), 401, 'under any name')
  const ok = await fetch(`${s.server.url}status`, { headers: { Authorization: `Bearer ${TOKEN}` } })
  t.equal(ok.status, 200, 'the server still answers')
})

t.test('HEAD /events is refused (405): it would hold a stream slot with no stream', async (t) => {
  const s = await sink(t, { maxClientsPerIp: 1 })
  const head = await fetch(`${s.server.url}events`, { method: 'HEAD' })
  t.equal(head.status, 405, 'HEAD /events is 405')
  t.equal(head.headers.get('allow'), 'GET', 'Allow: GET')
  t.same(s.server.status()['clients'], [], 'no client was registered')
  t.equal((await fetch(s.server.url, { method: 'HEAD' })).status, 200, 'HEAD / is still answered')
})

t.test('/events and /status refuse the requests of another site’s page', async (t) => {
  const s = await sink(t)
  s.write([createEntry({ msg: 'one', seq: 1 })])
  for (const path of ['events', 'status']) {
    const cross = await fetch(`${s.server.url}${path}`, { headers: { 'Sec-Fetch-Site': 'cross-site' } })
    t.equal(cross.status, 403, `/${path} with Sec-Fetch-Site: cross-site is 403`)
    await cross.body?.cancel()
    const foreign = await fetch(`${s.server.url}${path}`, { headers: { Origin: 'http://evil.example' } })
    t.equal(foreign.status, 403, `/${path} with a foreign Origin is 403`)
    await foreign.body?.cancel()
    const opaque = await fetch(`${s.server.url}${path}`, { headers: { Origin: 'null' } })
    t.equal(opaque.status, 403, `/${path} with Origin: null is 403`)
    await opaque.body?.cancel()
  }
  t.same(s.server.status()['clients'], [], 'no stream slot was taken')
  const own = await fetch(`${s.server.url}status`, {
    headers: { Origin: `http://127.0.0.1:${s.server.port}`, 'Sec-Fetch-Site': 'same-origin' },
  })
  t.equal(own.status, 200, 'the view’s own page is answered')
  const link = await fetch(s.server.url, { headers: { 'Sec-Fetch-Site': 'cross-site' } })
  t.equal(link.status, 200, 'the page itself opens from a link on another site')
})
