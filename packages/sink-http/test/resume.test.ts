// What one browser holds, and what it is told: the bytes a client that never
// reads can hold (a large history, a large batch), Last-Event-ID across
// server runs, a filtered resume past the history, and the feed's own gaps
// (tail --web: the control socket's `missed`) told once, in their place.

import { connect } from 'node:net'
import { createEntry, type LogEntry } from '@logkit/core'
import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { createHttpSink, type HttpSinkOptions } from '../src/index.js'
import { openSse, type SseStream } from './helpers.js'

declare namespace Tap {
  type Test = Parameters<Parameters<typeof t.test>[1]>[0]
}

async function sink(t: Tap.Test, options: HttpSinkOptions = {}) {
  const s = await createHttpSink({ port: 0, ...options })
  t.teardown(() => s.close())
  return s
}

const PAD = 'p'.repeat(2000)

function entries(n: number, from = 1, msg = (i: number) => `entry ${i}`): LogEntry[] {
  return Array.from({ length: n }, (_, k) =>
    createEntry({ msg: msg(from + k), source: 'api', level: (from + k) % 2 === 0 ? 50 : 30, seq: from + k }),
  )
}

interface Client {
  bufferedBytes: number
  maxBufferedBytes: number
  queued: number
  maxQueue: number
  stalled: boolean
  missed: number
}

const live = (s: SseStream) => waitFor(() => s.events.some((e) => e.event === 'live'), 'the history')
const told = (s: SseStream) => s.events.filter((e) => e.event === 'missed').map((e) => JSON.parse(e.data))

t.test(
  'a client that never reads holds at most its queue and one chunk beyond the socket’s high-water mark',
  async (t) => {
    const s = await sink(t, { history: 2000, clientQueue: 20 })
    s.write(entries(2000, 1, (i) => `history ${i} ${PAD}`))
    const socket = connect(s.server.port, '127.0.0.1')
    t.teardown(() => socket.destroy())
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.pause()
    socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const client = () => (s.server.status()['clients'] as Client[])[0]
    await waitFor(() => client() !== undefined, 'the stream to open')
    // Chunks are of at most 64 KiB; one event may make a chunk longer by its own size.
    const bound = 16 * 1024 + 64 * 1024 + 4 * 1024
    const first = client()!
    t.ok(
      first.bufferedBytes <= bound,
      `after the history, its socket holds ${first.bufferedBytes} bytes (at most ${bound})`,
    )
    t.equal(first.maxBufferedBytes, 16 * 1024 + 64 * 1024, 'the bound the status names')
    t.ok(first.queued <= first.maxQueue, `its queue is within ${first.maxQueue}`)
    for (let k = 0; k < 10; k++) {
      s.write(entries(1000, 2001 + k * 1000, (i) => `live ${i} ${PAD}`))
      const c = client()!
      t.ok(c.bufferedBytes <= bound, `after a batch of 1,000 entries of 2 KB, ${c.bufferedBytes} bytes`)
      t.ok(c.queued <= c.maxQueue, 'and its queue within bound')
    }
    t.ok(client()!.stalled, 'the socket is full (the kernel’s buffers first)')
    t.ok(client()!.missed > 0, `what did not fit is counted missed (${client()!.missed})`)
  },
)

t.test('a writable client gets a large batch in chunks, every entry, in order', async (t) => {
  const s = await sink(t, { history: 0, clientQueue: 5 })
  const stream = await openSse(`${s.server.url}events`)
  t.teardown(() => stream.close())
  await live(stream)
  s.write(entries(300, 1, (i) => `batch ${i} ${'x'.repeat(500)}`))
  await waitFor(
    () => stream.entries().length + told(stream).length > 0 && stream.entries().length >= 1,
    'entries',
  )
  await waitFor(
    () =>
      stream.entries().length + told(stream).reduce((n: number, m: { count: number }) => n + m.count, 0) ===
      300,
    'every entry arrived or was told missed',
  )
  const ids = stream.entries().map((e) => e.id)
  t.same(
    ids,
    [...ids].sort((a, b) => a - b),
    'in order',
  )
  t.ok(ids.length >= 5, `a socket that takes them gets more than its queue (${ids.length})`)
})

t.test(
  'a Last-Event-ID of another run (ids began again) is a fresh start, and the browser is told',
  async (t) => {
    const before = await sink(t, { history: 100 })
    before.write(entries(50))
    const old = await openSse(`${before.server.url}events`)
    await live(old)
    old.close()
    const lastOfOldRun = old.events.filter((e) => e.event === 'entry').at(-1)?.id ?? ''
    t.match(lastOfOldRun, /^[0-9a-f]+-50$/, 'the old run’s last id')
    const after = await sink(t, { history: 100 })
    after.write(entries(30))
    const resumed = await openSse(`${after.server.url}events`, { 'Last-Event-ID': lastOfOldRun })
    await live(resumed)
    resumed.close()
    t.match(
      JSON.parse(resumed.events.find((e) => e.event === 'hello')?.data ?? '{}'),
      { resumed: false, restarted: true, lastId: 30 },
      'hello says: not resumed, the server restarted',
    )
    t.equal(resumed.entries().length, 30, 'and the whole history of the new run follows')
    const epoch = resumed.events.find((e) => e.event === 'entry')?.id?.split('-')[0]
    const ahead = await openSse(`${after.server.url}events`, { 'Last-Event-ID': `${epoch}-5000` })
    await live(ahead)
    ahead.close()
    t.equal(ahead.entries().length, 30, 'an id of this run past its last is a fresh start too')
    const own = await openSse(`${after.server.url}events`, { 'Last-Event-ID': `${epoch}-25` })
    await live(own)
    own.close()
    t.same(
      own.entries().map((e) => e.id),
      [26, 27, 28, 29, 30],
      'an id of this run resumes after it',
    )
    t.match(JSON.parse(own.events[0]?.data ?? '{}'), { resumed: true, restarted: false }, 'resumed')
  },
)

t.test(
  'a filtered resume past the history is told "up to" how many it missed, unfiltered exactly',
  async (t) => {
    const s = await sink(t, { history: 10 })
    s.write(entries(40))
    const first = await openSse(`${s.server.url}events`)
    await live(first)
    first.close()
    const epoch = first.events.find((e) => e.event === 'entry')?.id?.split('-')[0]
    const filtered = await openSse(`${s.server.url}events?level=error`, { 'Last-Event-ID': `${epoch}-10` })
    await live(filtered)
    filtered.close()
    t.same(
      told(filtered),
      [{ upTo: 20, reason: 'history' }],
      'filtered: up to 20 (ids 11 to 30; half matched)',
    )
    const plain = await openSse(`${s.server.url}events`, { 'Last-Event-ID': `${epoch}-10` })
    await live(plain)
    plain.close()
    t.same(told(plain), [{ count: 20, reason: 'history' }], 'unfiltered: exactly 20')
  },
)

t.test("the feed's gaps reach the browser once, in their place, live and on resume", async (t) => {
  const s = await sink(t, { history: 10 })
  const stream = await openSse(`${s.server.url}events`)
  t.teardown(() => stream.close())
  await live(stream)
  s.write(entries(3))
  s.server.feedMissed(7)
  s.write(entries(3, 4))
  await waitFor(() => stream.entries().length === 6, 'the entries around the gap')
  const order = stream.events
    .filter((e) => e.event === 'entry' || e.event === 'missed')
    .map((e) => (e.event === 'missed' ? JSON.parse(e.data) : Number(e.id?.split('-')[1])))
  t.same(order, [1, 2, 3, { count: 7, reason: 'feed' }, 4, 5, 6], 'told between entries 3 and 4; ids go on')
  const epoch = stream.events.find((e) => e.event === 'entry')?.id?.split('-')[0]

  const fromBefore = await openSse(`${s.server.url}events`, { 'Last-Event-ID': `${epoch}-2` })
  await live(fromBefore)
  fromBefore.close()
  t.same(
    fromBefore.events
      .filter((e) => e.event === 'entry' || e.event === 'missed')
      .map((e) => (e.event === 'missed' ? JSON.parse(e.data) : Number(e.id?.split('-')[1]))),
    [3, { count: 7, reason: 'feed' }, 4, 5, 6],
    'a resume from before the gap replays it in its place',
  )
  const fromAfter = await openSse(`${s.server.url}events`, { 'Last-Event-ID': `${epoch}-4` })
  await live(fromAfter)
  fromAfter.close()
  t.same(told(fromAfter), [], 'a resume from after the gap is not told of it again')

  // The gap and the entries around it let go from the history: a resume from before is told each once.
  s.write(entries(12, 7))
  const late = await openSse(`${s.server.url}events`, { 'Last-Event-ID': `${epoch}-2` })
  await live(late)
  late.close()
  t.same(
    told(late),
    [
      { count: 6, reason: 'history' },
      { count: 7, reason: 'feed' },
    ],
    'entries 3 to 8 let go (6), and the gap of 7, counted once',
  )
  t.equal(late.entries()[0]?.id, 9, 'then the history from 9')
  t.equal(s.server.status()['lastId'], 18, 'the gap spent no entry id')
})

t.test('a stalled client hears of a feed gap after what it had queued, and keeps its queue', async (t) => {
  const s = await sink(t, { history: 0, clientQueue: 1000 })
  const socket = connect(s.server.port, '127.0.0.1')
  t.teardown(() => socket.destroy())
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.pause()
  socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  const client = () => (s.server.status()['clients'] as Client[])[0]
  await waitFor(() => client() !== undefined, 'the stream to open')
  let next = 1
  await waitFor(() => {
    s.write(entries(20, next, (i) => `fill ${i} ${PAD}`))
    next += 20
    return client()!.stalled
  }, 'the socket to fill')
  s.write(entries(5, next, (i) => `queued ${i}`))
  next += 5
  s.server.feedMissed(11)
  s.write(entries(5, next, (i) => `later ${i}`))
  const c = client()!
  t.equal(c.missed, 0, 'with room in its queue, nothing is missed')
  t.ok(c.queued >= 11, `the queue holds the entries and the gap (${c.queued})`)
  let text = ''
  socket.setEncoding('utf8').on('data', (d: string) => (text += d))
  socket.resume()
  await waitFor(() => text.includes(`later ${next + 4}`), 'everything to arrive')
  const lastQueued = text.indexOf(`queued ${next - 1}`)
  const gap = text.indexOf('event: missed\ndata: {"count":11,"reason":"feed"}')
  t.ok(lastQueued !== -1 && gap > lastQueued, 'the gap comes after the entries queued before it')
  t.ok(gap < text.indexOf(`later ${next}`), 'and before the entries after it')
  t.notMatch(text, /"reason":"slow"/, 'and it was not dropped to the tail')
})
