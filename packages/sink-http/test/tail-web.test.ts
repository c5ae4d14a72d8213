// `logkit tail --web` beside a running compose (no http sink in its manifest):
// the same page and stream, fed through the control socket, with the producer
// panel from the collector's own status.

import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { exited, freePort, getJson, openSse, testApp } from './helpers.js'

t.test(
  'logkit tail --web serves the running compose: history, live entries, the producer panel',
  async (t) => {
    const app = testApp(t, 'tailweb')
    const compose = await app.compose([
      '  main:',
      '    sources: [{ use: shm }]',
      '    sinks: [{ use: console }]',
    ])
    const early = await app.producer('early', 12)
    await exited(early.child)
    const port = await freePort()
    const web = app.cli(['tail', '--app', app.app, '--web', '--port', String(port)])
    await waitFor(
      () => web.out().includes('logkit tail --web: ') || web.child.exitCode !== null,
      'the view to listen',
    )
    t.match(web.out(), `logkit tail --web: http://127.0.0.1:${port}/`, 'it prints its URL')
    const base = `http://127.0.0.1:${port}/`
    t.equal((await fetch(base)).status, 200, 'the page is served')
    const stream = await openSse(`${base}events?source=early,late`)
    t.teardown(() => stream.close())
    await waitFor(() => stream.events.some((e) => e.event === 'live'), 'the history')
    t.same(
      stream.entries().map((e) => e.msg),
      Array.from({ length: 12 }, (_, k) => `early ${k + 1}`),
      "the collector's history first, filtered on the server",
    )
    const late = await app.producer('late', 5)
    await exited(late.child)
    await waitFor(() => stream.entries().length >= 17, 'the live entries')
    t.same(
      stream
        .entries()
        .slice(12)
        .map((e) => e.msg),
      Array.from({ length: 5 }, (_, k) => `late ${k + 1}`),
      'then live entries, through the control socket',
    )
    let producers: { source: string; entries: number; exited: boolean }[] = []
    await waitFor(() => {
      void getJson(`${base}status`)
        .then((s) => (producers = s['producers'] as typeof producers))
        .catch(() => {})
      return producers.some((p) => p.source === 'late' && p.entries === 5 && p.exited)
    }, "the collector's producer table, with the exits")
    const status = await getJson(`${base}status`)
    t.equal((status['collector'] as { app: string }).app, app.app, "the status carries the collector's own")
    t.ok(
      producers.some((p) => p.source === 'early' && p.entries === 12),
      'the producer panel counts as `logkit status` does',
    )
    web.child.kill('SIGINT')
    await exited(web.child)
    t.equal(web.child.exitCode, 0, 'tail --web stops cleanly on SIGINT')
    compose.child.kill('SIGTERM')
    await exited(compose.child)
  },
)
