// Replay of dead-letter files that are not clean: a partial line (a crash,
// or a short write before it was taken back out) does not stop the replay,
// entries below a level raised since are still sent, and the replay sink does
// not wait for fuller requests.

import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { HEADER_KEY, replay } from '../src/index.js'
import { validateWebhookOptions } from '../src/options.js'
import { replayConfig } from '../src/replay.js'
import { diagnostics, ndjson, startServer } from './helpers.js'

const header = (n: number) =>
  JSON.stringify({
    [HEADER_KEY]: { time: 'x', sink: 'hook', endpoint: 'e', reason: 'rejected', attempts: 1, entries: n },
  })
const entry = (seq: number, level = 30) =>
  JSON.stringify({ level, time: 1700000000000, msg: `entry ${seq}`, seq })

t.test(
  'lines that are not entries go back into the file, counted and reported; the rest is sent',
  async (t) => {
    const server = await startServer(t)
    const file = join(t.testdir(), 'dead.ndjson')
    const partial = '{"level":30,"msg":"cut sh'
    writeFileSync(
      file,
      [
        header(2),
        entry(1),
        entry(2),
        header(2),
        partial,
        entry(3),
        header(1),
        entry(4),
        '{"level":30,"ms',
      ].join('\n'),
    )
    const d = diagnostics()
    const result = await replay(file, { url: server.url, preset: 'ndjson' }, { report: d.report })
    t.same(
      server.received.flatMap((r) => ndjson(r.body).map((e) => e['seq'])),
      [1, 2, 3, 4],
      'every entry that parses was sent, in order',
    )
    t.match(
      result,
      { entries: 4, delivered: 4, deadLettered: 0, unparsable: 2 },
      'two lines are counted unparsable',
    )
    const left = readFileSync(file, 'utf8').trimEnd().split('\n')
    t.match(
      JSON.parse(left[0] ?? '{}'),
      { [HEADER_KEY]: { reason: 'unparsable', entries: 2 } },
      'back in the file as a record',
    )
    t.same(left.slice(1), [partial, '{"level":30,"ms'], 'with the lines as they were')
    t.same(d.codes(), ['dead_letter_unparsable'], 'and reported')
    t.equal(d.seen[0]?.count, 2, 'with their count')
  },
)

t.test('replay sends entries below a level raised since they were dead-lettered', async (t) => {
  const server = await startServer(t)
  const file = join(t.testdir(), 'dead.ndjson')
  writeFileSync(file, `${[header(3), entry(1, 30), entry(2, 20), entry(3, 50)].join('\n')}\n`)
  const result = await replay(file, { url: server.url, preset: 'ndjson', level: 'error' })
  t.same(
    server.received.flatMap((r) => ndjson(r.body).map((e) => e['seq'])),
    [1, 2, 3],
    'info and debug entries are sent too, not filtered',
  )
  t.match(result, { delivered: 3, deadLettered: 0 }, 'all delivered')
  t.throws(() => readFileSync(file), 'and the file is gone')
})

t.test('the replay sink has no level and does not wait for fuller requests', async (t) => {
  const config = validateWebhookOptions({
    url: 'http://127.0.0.1:1/x',
    level: 'error',
    batch: { maxWaitMs: 5000 },
    deadLetter: { path: 'other.ndjson', keep: 5 },
  })
  const replaying = replayConfig(config, 'dead.ndjson')
  t.equal(replaying.level, undefined, 'no level')
  t.equal(replaying.batch.maxWaitMs, 0, 'maxWaitMs 0: a record is sent at once')
  t.match(
    replaying.deadLetter,
    { path: 'dead.ndjson', keep: 5 },
    'what is not delivered goes back to the replayed file',
  )
})
