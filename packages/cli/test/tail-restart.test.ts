// `logkit tail` after a restart shows what the file sink's `history` kept of
// the run before (the sink's README promises it), then this run's entries.

import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import t from 'tap'
import { compose } from '../src/compose.js'
import { isolatedEnv, manifests, runInProcess } from './helpers.js'

const quiet = () => new Writable({ write: (_c, _e, cb) => cb() })

t.test('after a restart, tail shows the file sink’s history of the run before', async (t) => {
  const { work, ...dirs } = isolatedEnv()
  const env = { ...process.env, ...dirs }
  const manifest = (source: string) => {
    const file = join(work, 'logkit.yaml')
    writeFileSync(
      file,
      [
        'version: 1',
        'app: histapp',
        'pipelines:',
        '  main:',
        '    sources:',
        source,
        '    sinks:',
        '      - use: file',
        '        path: logs/app.log',
        '        mkdir: true',
        '        history: 3',
        '',
      ].join('\n'),
    )
    return file
  }
  // The first run: five entries, then its sources end and it stops.
  const first = manifest(
    `      - use: ${join(manifests, 'good', 'ops', 'count-source.js')}\n        count: 5`,
  )
  t.equal(await compose(first, { env, out: quiet() }), 0, 'the first run ends by itself')

  // The second run: nothing logged yet; tail asks at once.
  const abort = new AbortController()
  let tail: { code: number; stdout: string; stderr: string } | undefined
  const second = manifest('      - use: shm')
  const done = compose(second, {
    env,
    out: quiet(),
    signal: abort.signal,
    onRunning: () => {
      void runInProcess(['tail', '--app', 'histapp', '--no-follow', '-n', '2', '--json'], env)
        .then((r) => {
          tail = r
        })
        .finally(() => abort.abort())
    },
  })
  t.equal(await done, 0, 'the second run exits 0')
  t.equal(tail?.code, 0, `tail exits 0 (${tail?.stderr})`)
  const msgs = (tail?.stdout ?? '')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { msg: string }).msg)
  t.same(msgs, ['n 4', 'n 5'], 'the last two entries of the run before')
})
