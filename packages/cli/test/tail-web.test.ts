// `logkit tail --web` in-process: the web view of @logkit/sink-http beside a
// running compose, fed through the control socket (history, then live
// entries), its producer panel from the collector's status, a bad option
// refused before anything listens, and an abort that ends it.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { isLogkitError } from '@logkit/core'
import t from 'tap'
import { compose } from '../src/compose.js'
import { tailWeb } from '../src/tail-web.js'
import { isolatedEnv, producerScript, startNode, until, waitFor } from './helpers.js'

const quiet = () => new Writable({ write: (_c, _e, cb) => cb() })

/** An app with an shm → file manifest; start() runs its compose and resolves (once running) to its stop. */
function shmApp(name: string) {
  const { work, ...dirs } = isolatedEnv()
  const app = `${name}${process.pid}`
  const env = { ...process.env, ...dirs, LOGKIT_TEST_APP: app }
  const manifest = join(work, 'logkit.yaml')
  writeFileSync(
    manifest,
    [
      'version: 1',
      `app: ${app}`,
      'pipelines:',
      '  main:',
      '    sources: [{ use: shm }]',
      `    sinks: [{ use: file, path: ${join(work, 'out.log')} }]`,
      '',
    ].join('\n'),
  )
  const start = async (): Promise<() => Promise<void>> => {
    const stopCompose = new AbortController()
    let running!: () => void
    const up = new Promise<void>((resolve) => (running = resolve))
    const done = compose(manifest, {
      env,
      out: quiet(),
      signal: stopCompose.signal,
      onRunning: () => running(),
    })
    await up
    return async () => {
      stopCompose.abort()
      await done
    }
  }
  return { app, env, start }
}

t.test('tail --web serves the collector: history and live entries, producers, a clean stop', async (t) => {
  const { app, env, start } = shmApp('tailweb')
  const stopCompose = await start()
  t.teardown(() => stopCompose())
  const first = await startNode([producerScript, 'shm', 'first', '10'], env).exit
  t.equal(first.code, 0, 'a producer logged 10 entries')

  await t.rejects(
    tailWeb(app, env, { history: 10, host: '0.0.0.0', port: 0 }, new AbortController().signal),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'beyond loopback without a token: refused before listening',
  )

  const stop = new AbortController()
  let url: string | undefined
  const web = tailWeb(
    app,
    env,
    { history: 100, port: 0, statusEveryMs: 50, onListening: (u) => (url = u) },
    stop.signal,
  )
  await waitFor(() => url, 'the view to listen')
  let body = ''
  const reader = (await fetch(`${url}events`)).body!.getReader()
  const reading = (async () => {
    for (;;) {
      const { value, done: end } = await reader.read()
      if (end) return
      body += Buffer.from(value).toString('utf8')
    }
  })().catch(() => {})
  await waitFor(() => body.includes('event: live'), 'the history')
  t.equal(body.match(/"msg":"entry \d+"/g)?.length, 10, 'the 10 entries of the history')
  const second = await startNode([producerScript, 'shm', 'second', '5'], env).exit
  t.equal(second.code, 0, 'a second producer logged 5 entries')
  await waitFor(() => (body.match(/"source":"second","pid"/g)?.length ?? 0) === 5, 'the live entries')
  t.pass('live entries arrive through the control socket')
  await until(async () => {
    const status = (await (await fetch(`${url}status`)).json()) as {
      producers: { source: string; entries: number }[]
    }
    return status.producers.some((p) => p.source === 'second' && p.entries === 5)
  }, "the collector's producer rows")
  t.pass("the producer rows are the collector's")
  stop.abort()
  await web
  await reading
  t.ok(
    await fetch(`${url}status`).then(
      () => false,
      () => true,
    ),
    'aborted: the view is closed',
  )
  const noCollector = await tailWeb('nosuchapp', env, { history: 1 }, new AbortController().signal).catch(
    (e) => e,
  )
  t.ok(
    isLogkitError(noCollector, 'LOGKIT_ERR_CLI_NO_COLLECTOR'),
    'no running compose: LOGKIT_ERR_CLI_NO_COLLECTOR',
  )
})

t.test(
  'tail --web outlives a restart of compose: the view stays up and follows the new collector',
  async (t) => {
    const { app, env, start } = shmApp('tailwebre')
    let stopCompose = await start()
    t.teardown(() => stopCompose())
    const before = await startNode([producerScript, 'shm', 'before', '3'], env).exit
    t.equal(before.code, 0, 'a producer logged 3 entries')
    const stop = new AbortController()
    t.teardown(() => stop.abort())
    let url: string | undefined
    const feed: string[] = []
    const web = tailWeb(
      app,
      env,
      {
        history: 100,
        port: 0,
        statusEveryMs: 50,
        onListening: (u) => (url = u),
        onFeed: (s) => feed.push(s),
      },
      stop.signal,
    )
    await waitFor(() => url, 'the view to listen')
    let body = ''
    const reader = (await fetch(`${url}events`)).body!.getReader()
    const reading = (async () => {
      for (;;) {
        const { value, done: end } = await reader.read()
        if (end) return
        body += Buffer.from(value).toString('utf8')
      }
    })().catch(() => {})
    await waitFor(() => (body.match(/"msg":"entry \d+"/g)?.length ?? 0) === 3, 'the history')
    await stopCompose()
    await waitFor(() => feed.includes('lost'), 'the feed to be lost')
    t.equal((await fetch(`${url}status`)).status, 200, 'with compose gone, the view still answers')
    await until(
      async () => !('collector' in ((await (await fetch(`${url}status`)).json()) as object)),
      "the gone collector's last status to be let go",
    )
    t.pass("the gone collector's numbers are not shown as current")
    stopCompose = await start()
    await waitFor(() => feed.join(' ') === 'connected lost connected', 'the feed to be back', 60_000)
    const after = await startNode([producerScript, 'shm', 'after', '4'], env).exit
    t.equal(after.code, 0, 'a producer of the new compose logged 4 entries')
    await waitFor(
      () => (body.match(/"source":"after","pid"/g)?.length ?? 0) === 4,
      'the new collector’s entries',
      60_000,
    )
    t.pass('the same stream, the same page, follows the new collector')
    stop.abort()
    await web
    await reading
  },
)
