// Retention by count and by age, and the promise behind both: only files this
// sink named are ever removed, whatever else lives in the folder.

import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { basename, join } from 'node:path'
import t, { type Test } from 'tap'
import { createFileSink } from '../src/index.js'
import { entries, manualClock, messages, rotatedFiles } from './helpers.js'

const DAY = 86_400_000

/** Files that look like ours to a careless pattern, but are not. */
const strangers = {
  'notes.txt': 'keep me',
  'app.log.bak': 'keep me',
  'app.2026-01-01.1.log.old': 'keep me',
  'app.2026-01-01.01.log': 'keep me',
  'app.2026-01-01.1.txt': 'keep me',
  'other.2026-01-01.1.log': 'keep me',
  'xapp.2026-01-01.1.log': 'keep me',
  'app.2026-1-1.1.log': 'keep me',
  'app.2026-01-01.1.log.gz.old': 'keep me',
}

function assertStrangersKept(t: Test, dir: string) {
  for (const [name, text] of Object.entries(strangers)) {
    t.equal(readFileSync(join(dir, name), 'utf8'), text, `${name} is untouched`)
  }
}

t.test('keep: only the newest N rotated files stay; nothing else in the folder is touched', async (t) => {
  const dir = t.testdir(strangers)
  const path = join(dir, 'app.log')
  const sink = createFileSink({ path, rotate: { size: 300, keep: 2 } })
  for (let b = 0; b < 12; b++) await sink.write(entries(2, b * 2 + 1))
  await sink.close()
  const rotated = rotatedFiles(path).map((f) => basename(f))
  t.equal(rotated.length, 2, 'two rotated files remain')
  const made = sink.stats.rotations
  t.ok(made > 4, `more than four rotations happened (${made})`)
  t.same(
    rotated.map((n) => Number(n.split('.').at(-2))),
    [made - 1, made],
    'the two kept are the newest',
  )
  t.equal(sink.stats.removed, made - 2, 'stats count every removal')
  t.same(messages(path).at(-1), 'entry 24', 'the live file is never removed')
  assertStrangersKept(t, dir)
})

t.test('keep: 0 keeps no rotated file', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path, rotate: { size: 200, keep: 0 } })
  for (let b = 0; b < 4; b++) await sink.write(entries(2, b * 2 + 1))
  await sink.close()
  t.same(rotatedFiles(path), [], 'every rotated file is removed')
  t.ok(existsSync(path), 'the live file stays')
})

t.test('maxAge: rotated files last written longer ago than maxAge are removed, by the clock', async (t) => {
  const dir = t.testdir(strangers)
  const path = join(dir, 'app.log')
  const clock = manualClock(Date.now())
  const sink = createFileSink({ path, rotate: { size: '1MiB', maxAge: '7d' }, clock })
  for (let i = 0; i < 3; i++) {
    await sink.write(entries(1, i + 1))
    await sink.rotate()
  }
  await sink.settled()
  const [oldest, middle, newest] = rotatedFiles(path)
  const tenDaysAgo = new Date(clock.now() - 10 * DAY)
  const sixDaysAgo = new Date(clock.now() - 6 * DAY)
  utimesSync(oldest!, tenDaysAgo, tenDaysAgo)
  utimesSync(middle!, sixDaysAgo, sixDaysAgo)
  // The strangers are older still: age alone never makes a file ours.
  for (const name of Object.keys(strangers)) utimesSync(join(dir, name), tenDaysAgo, tenDaysAgo)
  await sink.write(entries(1, 4))
  await sink.rotate()
  await sink.settled()
  t.notOk(existsSync(oldest!), 'the file last written 10 days ago is removed')
  t.ok(existsSync(middle!) && existsSync(newest!), 'files within 7 days stay')

  clock.advance(2 * DAY)
  await sink.write(entries(1, 5))
  await sink.rotate()
  await sink.settled()
  t.notOk(existsSync(middle!), 'two days later by the clock, the 6-day-old file is 8 days old and removed')
  t.ok(existsSync(newest!), 'a file written just now is not')
  await sink.close()
  assertStrangersKept(t, dir)
})

t.test('keep and maxAge together: a file goes when either says so', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const clock = manualClock(Date.now())
  const sink = createFileSink({ path, rotate: { size: '1MiB', keep: 3, maxAge: '1d' }, clock })
  for (let i = 0; i < 5; i++) {
    await sink.write(entries(1, i + 1))
    await sink.rotate()
  }
  await sink.settled()
  const kept = rotatedFiles(path)
  t.equal(kept.length, 3, 'keep: 3 leaves three')
  const old = new Date(clock.now() - 2 * DAY)
  utimesSync(kept[0]!, old, old)
  await sink.rotate()
  await sink.write(entries(1, 6))
  await sink.rotate()
  await sink.close()
  t.equal(rotatedFiles(path).length, 3, 'still three after another rotation')
  t.notOk(existsSync(kept[0]!), 'the old one went by age')
})

t.test('retention never follows or removes a symlink or a folder named like a rotated file', async (t) => {
  const dir = t.testdir({ 'victim.txt': 'precious' })
  mkdirSync(join(dir, 'app.2020-01-01.1.log'))
  symlinkSync(join(dir, 'victim.txt'), join(dir, 'app.2020-01-02.1.log'))
  const path = join(dir, 'app.log')
  const sink = createFileSink({ path, rotate: { size: 100, keep: 0 } })
  for (let b = 0; b < 3; b++) await sink.write(entries(1, b + 1))
  await sink.close()
  t.ok(existsSync(join(dir, 'app.2020-01-01.1.log')), 'the folder is still there')
  t.ok(readdirSync(dir).includes('app.2020-01-02.1.log'), 'the symlink is still there')
  t.equal(readFileSync(join(dir, 'victim.txt'), 'utf8'), 'precious', 'its target is untouched')
})

t.test('without keep or maxAge, rotated files are all kept', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  writeFileSync(join(dir, 'app.2020-01-01.1.log'), 'old\n')
  utimesSync(join(dir, 'app.2020-01-01.1.log'), new Date(0), new Date(0))
  const sink = createFileSink({ path, rotate: { size: 100 } })
  for (let b = 0; b < 3; b++) await sink.write(entries(1, b + 1))
  await sink.close()
  t.ok(existsSync(join(dir, 'app.2020-01-01.1.log')), 'an old rotated file stays')
})
