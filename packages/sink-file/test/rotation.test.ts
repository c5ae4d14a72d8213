// Rotation by size and by time (time moved by a manual clock), the naming of
// rotated files, and how a restart continues the right file with the right
// numbering — also after a crash in the middle of a rotation.

import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs'
import { basename, join } from 'node:path'
import { formatJson } from '@logkit/core'
import t from 'tap'
import { createFileSink } from '../src/index.js'
import { diagnostics, entries, linesOf, manualClock, messages, rotatedFiles } from './helpers.js'

const NAME = /^app\.\d{4}-\d{2}-\d{2}\.\d+\.log$/

t.test('size rotation keeps every file within the size, in whole lines, in order', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path, rotate: { size: 1024 } })
  for (let b = 0; b < 10; b++) await sink.write(entries(10, b * 10 + 1))
  await sink.close()
  const rotated = rotatedFiles(path)
  t.ok(
    rotated.length >= 5,
    `100 entries of ~100 bytes make at least five rotated files (got ${rotated.length})`,
  )
  for (const file of [...rotated, path]) {
    t.ok(statSync(file).size <= 1024, `${basename(file)} is at most 1024 bytes`)
    t.ok(
      linesOf(file).every((line) => JSON.parse(line)),
      `${basename(file)} holds whole JSON lines only`,
    )
  }
  t.same(
    rotated.map((f) => Number(f.split('.').at(-2))),
    rotated.map((_, i) => i + 1),
    'rotated files are numbered 1, 2, 3… in the order they were made',
  )
  t.ok(
    rotated.every((f) => NAME.test(f.split('/').at(-1) as string)),
    'rotated names are <base>.<YYYY-MM-DD>.<n><ext>',
  )
  t.same(
    messages(path),
    entries(100).map((e) => e.msg),
    'read oldest rotated file first, every entry is there once, in order',
  )
  t.equal(sink.stats.rotations, rotated.length, 'stats count the rotations')
  t.equal(sink.stats.entries, 100, 'stats count the entries written')
})

t.test('a line larger than the rotation size gets a file of its own', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path, rotate: { size: 200 } })
  const [small, big, after] = entries(3)
  await sink.write([small!, { ...big!, msg: 'x'.repeat(500) }, after!])
  await sink.close()
  const files = [...rotatedFiles(path), path].map(linesOf)
  t.same(
    files.map((lines) => lines.length),
    [1, 1, 1],
    'the small line, the oversized line and the next line are each in their own file',
  )
  t.equal(JSON.parse(files[1]![0]!).msg.length, 500, 'the oversized line is whole')
})

t.test('daily rotation follows the clock and names a file after the day its lines belong to', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const clock = manualClock('2026-11-22T23:58:00Z')
  const sink = createFileSink({ path, rotate: { interval: 'daily' }, clock })
  await sink.write(entries(2, 1))
  clock.advance(60_000)
  await sink.write(entries(1, 3))
  t.same(rotatedFiles(path), [], 'no rotation within the day')
  clock.set('2026-11-23T00:00:00Z')
  await sink.write(entries(2, 4))
  clock.set('2026-11-25T10:00:00Z')
  await sink.write(entries(1, 6))
  await sink.close()
  const rotated = rotatedFiles(path)
  t.same(
    rotated.map((f) => f.split('/').at(-1)),
    ['app.2026-11-22.1.log', 'app.2026-11-23.1.log'],
    'one file per day that had lines, named after that day',
  )
  t.same(
    linesOf(rotated[0]!).map((l) => JSON.parse(l).seq),
    [1, 2, 3],
    'the 22nd holds what was written on the 22nd',
  )
  t.same(
    linesOf(rotated[1]!).map((l) => JSON.parse(l).seq),
    [4, 5],
    'the 23rd holds what was written on the 23rd',
  )
  t.same(
    linesOf(path).map((l) => JSON.parse(l).seq),
    [6],
    'the live file holds today',
  )
})

t.test('hourly rotation with a size limit numbers files within the hour', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const clock = manualClock('2026-11-22T13:10:00Z')
  const sink = createFileSink({ path, rotate: { interval: 'hourly', size: 400 }, clock })
  await sink.write(entries(8, 1))
  clock.set('2026-11-22T14:00:00Z')
  await sink.write(entries(1, 9))
  await sink.close()
  const names = rotatedFiles(path).map((f) => f.split('/').at(-1) as string)
  t.ok(names.length >= 3, 'size rotations within 13:00, then the hour change')
  t.ok(
    names.every((n) => /^app\.2026-11-22T13\.\d+\.log$/.test(n)),
    `every rotated file is named after hour 13 (${names.join(', ')})`,
  )
  t.same(
    messages(path),
    entries(9).map((e) => e.msg),
    'nothing lost or reordered across size and hour rotations',
  )
})

t.test('local time zone: rotation days and line times follow timeFormat local', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const start = new Date(2026, 10, 22, 23, 30).getTime()
  const clock = manualClock(start)
  const sink = createFileSink({ path, rotate: { interval: 'daily' }, timeFormat: 'local', clock })
  await sink.write(entries(1))
  clock.set(new Date(2026, 10, 23, 0, 30).getTime())
  await sink.write(entries(1, 2))
  await sink.close()
  t.same(
    rotatedFiles(path).map((f) => f.split('/').at(-1)),
    ['app.2026-11-22.1.log'],
    'the local day before local midnight names the rotated file',
  )
})

t.test('rotate() rotates at once; an empty file is not rotated', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path })
  await sink.rotate()
  t.same(rotatedFiles(path), [], 'rotating an empty file makes no rotated file')
  await sink.write(entries(2))
  await sink.rotate()
  await sink.write(entries(1, 3))
  await sink.close()
  t.equal(rotatedFiles(path).length, 1, 'one rotated file')
  t.same(messages(path), ['entry 1', 'entry 2', 'entry 3'], 'before and after rotation, in order')
  await t.rejects(sink.rotate(), { code: 'LOGKIT_ERR_FILE_CLOSED' }, 'rotate() after close() is refused')
})

t.test('a restart continues the live file and the numbering of rotated files', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const first = createFileSink({ path, rotate: { size: 500 } })
  for (let b = 0; b < 4; b++) await first.write(entries(3, b * 3 + 1))
  // One line left in the live file, so that the next run's first line fits beside it.
  await first.rotate()
  await first.write(entries(1, 13))
  await first.close()
  const before = rotatedFiles(path)
  const liveBefore = linesOf(path)
  t.ok(before.length >= 2 && liveBefore.length > 0, 'the first run rotated and left lines in the live file')

  const second = createFileSink({ path, rotate: { size: 500 } })
  await second.write(entries(1, 14))
  t.same(
    linesOf(path).slice(0, liveBefore.length),
    liveBefore,
    'the second run appends to the live file it found',
  )
  for (let b = 0; b < 3; b++) await second.write(entries(3, 15 + b * 3))
  await second.close()
  const after = rotatedFiles(path)
  const indexes = after.map((f) => Number(f.split('.').at(-2)))
  t.same(
    indexes,
    indexes.map((_, i) => i + 1),
    'numbers go on from the last one: no gap, no reuse',
  )
  t.same(after.slice(0, before.length), before, 'the rotated files of the first run are still there')
  t.same(
    messages(path),
    entries(23).map((e) => e.msg),
    'both runs together: every entry once, in order',
  )
})

t.test('a restart after a crash in the middle of a rotation finishes it and numbers on', async (t) => {
  const dir = t.testdir({
    'app.2026-11-22.1.log': `${formatJson(entries(1, 1)[0]!)}\n`,
    'app.2026-11-22.2.log.gz.partial': 'half a gzip',
    'app.2026-11-22.2.log': `${formatJson(entries(1, 2)[0]!)}\n`,
    'app.log': `${formatJson(entries(1, 3)[0]!)}\n`,
    'notes.txt': 'not ours',
  })
  const path = join(dir, 'app.log')
  const clock = manualClock('2026-11-22T12:00:00Z')
  const sink = createFileSink({ path, rotate: { size: '1MiB', compress: true }, clock })
  await sink.settled()
  t.same(
    readdirSync(dir).sort(),
    ['.app.log.logkit', 'app.2026-11-22.1.log.gz', 'app.2026-11-22.2.log.gz', 'app.log', 'notes.txt'],
    'the partial gzip is removed and the left-over originals are compressed (beside the log: its ownership record)',
  )
  await sink.rotate()
  await sink.write(entries(1, 4))
  await sink.close()
  t.ok(existsSync(join(dir, 'app.2026-11-22.3.log.gz')), 'the next rotation is number 3')
  t.same(messages(path), ['entry 1', 'entry 2', 'entry 3', 'entry 4'], 'every entry once, in order')
  t.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'not ours', 'other files are untouched')
})

t.test('a line torn by a crash is cut off at start, and reported', async (t) => {
  const path = join(t.testdir(), 'app.log')
  // A real run writes the whole line; the torn one is what a crash in its next write leaves.
  const first = createFileSink({ path })
  await first.write(entries(1))
  await first.close()
  const torn = '{"level":30,"time":17'
  appendFileSync(path, torn)
  const seen = diagnostics()
  const sink = createFileSink({ path }, { report: seen.report })
  await sink.write(entries(1, 2))
  await sink.close()
  t.same(messages(path), ['entry 1', 'entry 2'], 'the whole line stays, the torn one is gone')
  const reported = seen.seen.find((d) => d.code === 'torn_tail')
  t.equal(reported?.details?.['bytes'], torn.length, 'torn_tail reports the bytes removed')
})

t.test(
  'a file that has no newline at all is refused, never ended or cut (ownership.test.ts has more)',
  async (t) => {
    const dir = t.testdir({ 'app.log': 'someone else wrote this' })
    const path = join(dir, 'app.log')
    t.throws(() => createFileSink({ path }), { code: 'LOGKIT_ERR_FILE_FOREIGN_TAIL' }, 'the sink refuses it')
    t.equal(readFileSync(path, 'utf8'), 'someone else wrote this', 'the foreign text is kept as it was')
  },
)

t.test('a long torn tail is found across read chunks', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const first = createFileSink({ path })
  await first.write(entries(1))
  await first.close()
  const whole = readFileSync(path, 'utf8')
  appendFileSync(path, `{"msg":"${'y'.repeat(200_000)}`)
  const sink = createFileSink({ path })
  await sink.close()
  t.equal(readFileSync(path, 'utf8'), whole, 'cut back to the last newline, 200 KB earlier')
})

t.test('an existing file from an earlier day is rotated under that day at the first write', async (t) => {
  const dir = t.testdir({ 'app.log': `${formatJson(entries(1)[0]!)}\n` })
  const path = join(dir, 'app.log')
  const mtime = new Date('2026-11-20T08:00:00Z')
  utimesSync(path, mtime, mtime)
  const sink = createFileSink({
    path,
    rotate: { interval: 'daily' },
    clock: manualClock('2026-11-22T09:00:00Z'),
  })
  await sink.write(entries(1, 2))
  await sink.close()
  t.same(
    rotatedFiles(path).map((f) => f.split('/').at(-1)),
    ['app.2026-11-20.1.log'],
    "the file's last write dates it",
  )
  t.same(messages(path), ['entry 1', 'entry 2'], 'in order')
})

t.test('an external file already at the next rotated name is skipped, never overwritten', async (t) => {
  const dir = t.testdir({ 'app.2026-11-22.1.log': 'someone put this here\n' })
  const path = join(dir, 'app.log')
  const sink = createFileSink({ path, rotate: { size: '1MiB' }, clock: manualClock('2026-11-22T12:00:00Z') })
  await sink.write(entries(1))
  await sink.rotate()
  await sink.close()
  t.equal(
    readFileSync(join(dir, 'app.2026-11-22.1.log'), 'utf8'),
    'someone put this here\n',
    'the existing file is unchanged',
  )
  t.ok(existsSync(join(dir, 'app.2026-11-22.2.log')), 'the rotation took the next number')
})

function canMakeImmutable(): boolean {
  try {
    execFileSync('chattr', ['-i', '/tmp'], { stdio: 'ignore' })
    return process.getuid?.() === 0
  } catch {
    return false
  }
}

t.test(
  'a rotation whose rename fails is reported once, and the file grows instead of losing or repeating lines',
  { skip: !canMakeImmutable() && 'needs root and chattr to make a folder refuse renames' },
  async (t) => {
    const dir = t.testdir()
    const path = join(dir, 'app.log')
    const seen = diagnostics()
    const sink = createFileSink({ path, rotate: { size: 1000 } }, { report: seen.report })
    await sink.write(entries(5, 1))
    execFileSync('chattr', ['+i', dir])
    try {
      await sink.write(entries(10, 6))
    } finally {
      execFileSync('chattr', ['-i', dir])
    }
    t.same(
      seen.codes().filter((c) => c === 'rotate_failed'),
      ['rotate_failed'],
      'rotate_failed once, not once per line',
    )
    t.same(rotatedFiles(path), [], 'nothing was rotated')
    await sink.write(entries(10, 16))
    await sink.close()
    t.ok(rotatedFiles(path).length >= 1, 'rotation works again once the folder allows it')
    t.same(
      messages(path),
      entries(25).map((e) => e.msg),
      'every entry once, in order',
    )
  },
)

t.test('a large batch is written whole and in order, rotating or not', async (t) => {
  // ~400 KiB of lines in one batch, with multi-byte text, more than the
  // sink's line buffer holds at first; rotation at 64 KiB splits it six times.
  const batch = entries(3000).map((e, i) => ({ ...e, msg: `${e.msg} ${'é✓ø'.repeat(i % 40)}` }))
  for (const rotate of [undefined, { size: 64 * 1024 }]) {
    const path = join(t.testdir(), 'app.log')
    const sink = createFileSink({ path, ...(rotate ? { rotate } : {}) })
    await sink.write(batch)
    await sink.close()
    const files = [...rotatedFiles(path), path]
    t.same(
      messages(path),
      batch.map((e) => e.msg),
      `${rotate ? 'rotating' : 'one file'}: every line once, in order`,
    )
    const total = files.reduce((n, f) => n + statSync(f).size, 0)
    t.equal(total, sink.stats.bytes, 'the bytes counted are the bytes on disk')
    if (rotate) {
      t.ok(files.length >= 6, `at least six files (got ${files.length})`)
      t.ok(
        files.every((f) => statSync(f).size <= rotate.size),
        'every file within the size',
      )
    }
  }
})
