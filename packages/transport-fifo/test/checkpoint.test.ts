import { readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { readNote, writeNote } from '../src/abandoned-note.js'
import { CheckpointFile, readCheckpoint, writeCheckpoint } from '../src/checkpoint.js'

const drops = (dropped: number, droppedTooLarge = 0) => ({
  dropped,
  droppedTooLarge,
  droppedUnserializable: 0,
})

const hello = (hostname: string) => ({
  app: 'app',
  source: 'web',
  pid: 4242,
  hostname,
  protocol: 1,
  transport: 'fifo',
  capabilities: [],
  startTime: 123456789n,
})

t.test('a checkpoint file rewritten in place always reads as its last write', (t) => {
  const dir = tempDir('logkit-cp-')
  const path = join(dir, 'web.4242.fifo.ack')
  // A longer checkpoint left by an earlier collector.
  writeCheckpoint(path, {
    hello: hello('a-very-long-host-name-'.repeat(5)),
    lastSeq: 99_999_999,
    drops: drops(7),
  })
  const file = new CheckpointFile(path)
  file.write({ hello: hello('h'), lastSeq: 10, drops: drops(0) })
  t.same(
    readCheckpoint(path),
    { hello: hello('h'), lastSeq: 10, drops: drops(0) },
    'shorter than what was there',
  )
  file.write({ hello: hello('hôte-é'), lastSeq: 1_000_000, drops: drops(3) })
  t.same(
    readCheckpoint(path),
    { hello: hello('hôte-é'), lastSeq: 1_000_000, drops: drops(3) },
    'longer, not ASCII',
  )
  file.write({ hello: hello('h'), lastSeq: 11, drops: drops(3, 2) })
  t.same(
    readCheckpoint(path),
    { hello: hello('h'), lastSeq: 11, drops: drops(3, 2) },
    'shorter again, drops by reason',
  )
  file.close()
  t.equal(statSync(path).mode & 0o777, 0o600, 'private to the user')
  t.end()
})

t.test('a checkpoint file never follows a symlink', (t) => {
  const dir = tempDir('logkit-cp-')
  const target = join(dir, 'target')
  writeFileSync(target, 'keep')
  const path = join(dir, 'web.1.fifo.ack')
  symlinkSync(target, path)
  const file = new CheckpointFile(path)
  t.throws(() => file.write({ hello: hello('h'), lastSeq: 1, drops: drops(0) }), {
    code: 'LOGKIT_ERR_RUNTIME_DIR_UNSAFE',
  })
  t.end()
})

t.test(
  'a checkpoint with an unbounded hostname and source still fits one page, so one write is never torn',
  (t) => {
    const dir = tempDir('logkit-cp-')
    const path = join(dir, 'web.4242.fifo.ack')
    const huge = { ...hello('h'.repeat(10_000)), source: 'é'.repeat(10_000) }
    const file = new CheckpointFile(path)
    file.write({ hello: huge, lastSeq: 77, drops: drops(2) })
    file.close()
    t.ok(statSync(path).size <= 4096, `the file is one page at most (${statSync(path).size} bytes)`)
    const back = readCheckpoint(path)
    t.match(
      back,
      { lastSeq: 77, drops: { dropped: 2 }, hello: { pid: 4242, startTime: 123456789n } },
      'the run and the position survive whole',
    )
    t.ok(back?.hello.source.startsWith('éé'), 'the source is cut, not lost')
    t.end()
  },
)

t.test('a note carries the drops by reason; an older file without reasons reads as none named', (t) => {
  const dir = tempDir('logkit-cp-')
  const path = join(dir, 'web.4242.fifo.lost')
  writeNote(path, { hello: hello('h'), lastSeq: 9, drops: drops(4, 3), abandoned: 2 })
  t.same(readNote(path), { hello: hello('h'), lastSeq: 9, drops: drops(4, 3), abandoned: 2 }, 'round trip')
  const older = join(dir, 'web.4242.fifo.ack')
  writeCheckpoint(older, { hello: hello('h'), lastSeq: 5, drops: drops(2, 1) })
  const raw = JSON.parse(readFileSync(older, 'utf8'))
  writeFileSync(older, JSON.stringify({ ...raw, droppedTooLarge: undefined, droppedUnserializable: 'x' }))
  t.same(readCheckpoint(older)?.drops, drops(2), 'missing or bad reason counts are 0')
  t.end()
})
