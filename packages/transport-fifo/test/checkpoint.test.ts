import { statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { CheckpointFile, readCheckpoint, writeCheckpoint } from '../src/checkpoint.js'

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
  writeCheckpoint(path, { hello: hello('a-very-long-host-name-'.repeat(5)), lastSeq: 99_999_999, dropped: 7 })
  const file = new CheckpointFile(path)
  file.write({ hello: hello('h'), lastSeq: 10, dropped: 0 })
  t.same(readCheckpoint(path), { hello: hello('h'), lastSeq: 10, dropped: 0 }, 'shorter than what was there')
  file.write({ hello: hello('hôte-é'), lastSeq: 1_000_000, dropped: 3 })
  t.same(
    readCheckpoint(path),
    { hello: hello('hôte-é'), lastSeq: 1_000_000, dropped: 3 },
    'longer, not ASCII',
  )
  file.write({ hello: hello('h'), lastSeq: 11, dropped: 3 })
  t.same(readCheckpoint(path), { hello: hello('h'), lastSeq: 11, dropped: 3 }, 'shorter again')
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
  t.throws(() => file.write({ hello: hello('h'), lastSeq: 1, dropped: 0 }), {
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
    file.write({ hello: huge, lastSeq: 77, dropped: 2 })
    file.close()
    t.ok(statSync(path).size <= 4096, `the file is one page at most (${statSync(path).size} bytes)`)
    const back = readCheckpoint(path)
    t.match(
      back,
      { lastSeq: 77, dropped: 2, hello: { pid: 4242, startTime: 123456789n } },
      'the run and the position survive whole',
    )
    t.ok(back?.hello.source.startsWith('éé'), 'the source is cut, not lost')
    t.end()
  },
)
