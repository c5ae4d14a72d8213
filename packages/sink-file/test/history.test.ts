// The history file: the last N entries as pino-compatible JSONL next to the
// log, written on flush, rotation and close, and carried over a restart.

import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { createEntry } from '@logkit/core'
import t from 'tap'
import { createFileSink, historyPathOf } from '../src/index.js'
import { entries } from './helpers.js'

function historyMessages(path: string): string[] {
  return readFileSync(historyPathOf(path), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l).msg)
}

t.test('history keeps the last N entries as JSONL next to the log, from flush on', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path, history: 5 })
  t.equal(sink.historyPath, `${path}.history.jsonl`, 'the history file is <path>.history.jsonl')
  await sink.write(entries(12))
  t.notOk(existsSync(historyPathOf(path)), 'not written before a flush')
  await sink.flush()
  t.same(
    historyMessages(path),
    ['entry 8', 'entry 9', 'entry 10', 'entry 11', 'entry 12'],
    'the last five, oldest first',
  )
  t.equal(statSync(historyPathOf(path)).mode & 0o777, 0o600, 'created 0600 like the log')
  await sink.write(entries(2, 13))
  await sink.close()
  t.same(
    historyMessages(path),
    ['entry 10', 'entry 11', 'entry 12', 'entry 13', 'entry 14'],
    'close() writes it too',
  )
})

t.test('history carries over a restart', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const first = createFileSink({ path, history: 4 })
  await first.write(entries(3))
  await first.close()
  const second = createFileSink({ path, history: 4 })
  await second.write(entries(2, 4))
  await second.close()
  t.same(
    historyMessages(path),
    ['entry 2', 'entry 3', 'entry 4', 'entry 5'],
    'what the first run left, then the second run',
  )
})

t.test('history is JSON whatever the log format, and entries with a line are kept too', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path, format: 'text', template: '{LEVEL} {msg}', history: 3 })
  const preformatted = { ...createEntry({ msg: 'had a line' }), line: 'LINE SET BY THE FORMAT OPERATOR' }
  await sink.write([...entries(1), preformatted])
  await sink.close()
  t.equal(readFileSync(path, 'utf8'), 'INFO entry 1\nLINE SET BY THE FORMAT OPERATOR\n', 'the log is text')
  t.same(historyMessages(path), ['entry 1', 'had a line'], 'the history is JSON with the messages')
})

t.test('a symlink at the history path is replaced, never written through', async (t) => {
  const dir = t.testdir({ 'victim.txt': 'precious' })
  const path = join(dir, 'app.log')
  symlinkSync(join(dir, 'victim.txt'), historyPathOf(path))
  symlinkSync(join(dir, 'victim.txt'), `${historyPathOf(path)}.tmp`)
  const sink = createFileSink({ path, history: 2 })
  await sink.write(entries(2))
  await sink.close()
  t.equal(readFileSync(join(dir, 'victim.txt'), 'utf8'), 'precious', 'the target is unchanged')
  t.same(historyMessages(path), ['entry 1', 'entry 2'], 'the history file is a file of its own now')
})

t.test('a history that cannot be written is reported, and the log goes on', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  // A folder where the history file would go: the rename over it fails.
  mkdirSync(historyPathOf(path))
  const codes: string[] = []
  const sink = createFileSink({ path, history: 2 }, { report: (d) => codes.push(d.code) })
  await sink.write(entries(2))
  await sink.flush()
  await sink.close()
  t.ok(codes.includes('history_failed'), 'history_failed is reported')
  t.equal(readFileSync(path, 'utf8').split('\n').length - 1, 2, 'the log has both entries')
})
