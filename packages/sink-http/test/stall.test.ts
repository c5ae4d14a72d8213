// Under the real `logkit compose`, real shm producers: a browser that stops
// reading (a raw socket that never reads) does not slow the pipeline. Every
// entry still reaches the file sink beside it, the stalled client's queue
// stays within its bound (checked through /status), and once it reads again
// it is told how many entries it missed.

import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { waitFor } from '@logkit/core/testing'
import t from 'tap'
import { exited, freePort, getJson, testApp, waitForUrl } from './helpers.js'

const COUNT = 10_000
const PAD = 2000

t.test(
  'a stalled browser: the file sink gets every entry, its queue stays bounded, it is told what it missed',
  async (t) => {
    const app = testApp(t, 'stall')
    const port = await freePort()
    const out = join(app.work, 'out.log')
    const compose = await app.compose([
      '  main:',
      '    sources: [{ use: shm }]',
      '    sinks:',
      '      - use: http',
      `        port: ${port}`,
      '        clientQueue: 20',
      '      - use: file',
      `        path: ${out}`,
    ])
    const base = `http://127.0.0.1:${port}/`
    await waitForUrl(`${base}status`, 'the web view to listen')
    const socket = connect(port, '127.0.0.1')
    t.teardown(() => socket.destroy())
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.pause() // never reads
    socket.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const clients = async () =>
      (await getJson(`${base}status`))['clients'] as {
        queued: number
        maxQueue: number
        peakQueued: number
        missed: number
        stalled: boolean
      }[]
    let open = false
    await waitFor(() => {
      void clients()
        .then((c) => (open = c.length === 1))
        .catch(() => {})
      return open
    }, 'the stalled stream to be open')

    const producer = await app.producer('bulk', COUNT, 0, PAD)
    await exited(producer.child)
    t.equal(producer.child.exitCode, 0, `the producer logged ${COUNT} entries of ${PAD} bytes and closed`)
    const lines = () => {
      try {
        return readFileSync(out, 'utf8')
          .split('\n')
          .filter((l) => l.includes('"msg":"bulk '))
      } catch {
        return []
      }
    }
    await waitFor(() => lines().length >= COUNT, 'every entry in the file', 120_000)
    const written = lines().map((l) => JSON.parse(l) as { i: number })
    t.equal(written.length, COUNT, 'the file sink got every entry')
    t.same(
      written.map((e) => e.i),
      Array.from({ length: COUNT }, (_, k) => k + 1),
      'once each, in order',
    )
    const [client] = await clients()
    t.ok(client !== undefined, 'the stalled client is still there')
    t.ok(
      client!.peakQueued <= client!.maxQueue,
      `its queue never held more than ${client!.maxQueue} (peak ${client!.peakQueued})`,
    )
    t.equal(client!.maxQueue, 20, 'the bound is the manifest’s clientQueue')
    t.ok(client!.missed > 0, `it missed entries (${client!.missed})`)

    let text = ''
    socket.setEncoding('utf8').on('data', (d: string) => (text += d))
    socket.resume()
    const more = await app.producer('after', 0, 50)
    await waitFor(() => /event: missed\ndata: .*"reason":"slow"/.test(text), 'the missed event', 60_000)
    const told = JSON.parse(/event: missed\ndata: (.*"reason":"slow".*)\n/.exec(text)?.[1] ?? '{}') as {
      count: number
    }
    t.ok(told.count > 0, `on resume it is told how many it missed (${told.count})`)
    await waitFor(() => text.includes('"msg":"after '), 'live entries after the missed event', 60_000)
    t.ok(
      text.lastIndexOf('"reason":"slow"') < text.indexOf('"msg":"after '),
      'told before the live entries go on',
    )
    const toldInAll = [...text.matchAll(/event: missed\ndata: (.*)\n/g)]
      .map((m) => JSON.parse(m[1] as string) as { count: number })
      .reduce((sum, m) => sum + m.count, 0)
    const [after] = await clients()
    t.equal(
      toldInAll,
      after?.missed,
      `every entry it missed was told, in one or more missed events (${toldInAll})`,
    )
    more.child.kill('SIGTERM')
    compose.child.kill('SIGTERM')
    await exited(compose.child)
    t.equal(compose.child.exitCode, 0, 'compose shut down cleanly')
  },
)
