// Rotated names and periods, as pure functions: what is recognised as ours
// (strictly), how names sort, and where days and hours start.

import t from 'tap'
import { compareRotated, historyPathOf, namingFor, periodKey, periodOf } from '../src/naming.js'

t.test('rotated names are derived from the path, and only exact matches parse', async (t) => {
  const naming = namingFor('/var/log/shop/app.log')
  t.equal(naming.dir, '/var/log/shop', 'the folder of the path')
  t.equal(naming.rotated('2026-11-22', 3), 'app.2026-11-22.3.log', '<base>.<key>.<n><ext>')
  t.same(
    naming.parse('app.2026-11-22T13.12.log.gz'),
    {
      name: 'app.2026-11-22T13.12.log.gz',
      key: '2026-11-22T13',
      index: 12,
      compressed: true,
      partial: false,
    },
    'an hourly, compressed name parses',
  )
  t.equal(
    naming.parse('app.2026-11-22.1.log.gz.partial')?.partial,
    true,
    'a partial compression is recognised',
  )
  for (const name of [
    'app.log',
    'app.log.1',
    'app.2026-11-22.0.log',
    'app.2026-11-22.01.log',
    'app.2026-11-22.1.txt',
    'app.2026-11-22.1.log.bak',
    'app.2026-11-22.1.log.gz.tmp',
    'xapp.2026-11-22.1.log',
    'app.2026-11-2.1.log',
    'app.2026-11-22T1.1.log',
    'app.2026-11-22..log',
    'app.log.history.jsonl',
  ]) {
    t.equal(naming.parse(name), undefined, `${name} is not ours`)
  }
})

t.test('names without an extension, and with regex characters in them, work too', async (t) => {
  const plain = namingFor('logs/app')
  t.equal(plain.rotated('2026-11-22', 1), 'app.2026-11-22.1', 'no extension')
  t.equal(plain.parse('app.2026-11-22.1.gz')?.compressed, true, 'and its .gz')
  const odd = namingFor('logs/a+b (1).log')
  t.ok(odd.parse('a+b (1).2026-11-22.1.log'), 'special characters are matched literally')
  t.notOk(odd.parse('aab (1).2026-11-22.1.log'), 'not as a pattern')
})

t.test('rotated names sort by period, then numerically', async (t) => {
  const naming = namingFor('app.log')
  const names = [
    'app.2026-11-23.1.log',
    'app.2026-11-22.10.log',
    'app.2026-11-22.9.log',
    'app.2026-11-22T05.1.log',
  ]
  const sorted = names.map((n) => naming.parse(n)!).sort(compareRotated)
  t.same(
    sorted.map((r) => r.name),
    ['app.2026-11-22.9.log', 'app.2026-11-22.10.log', 'app.2026-11-22T05.1.log', 'app.2026-11-23.1.log'],
    'oldest first, 9 before 10',
  )
})

t.test('periods start at UTC midnight and on the hour', async (t) => {
  const at = Date.parse('2026-11-22T13:45:30.500Z')
  t.same(
    periodOf(at, 'daily', 'utc'),
    { start: Date.parse('2026-11-22T00:00:00Z'), end: Date.parse('2026-11-23T00:00:00Z') },
    'a UTC day',
  )
  t.same(
    periodOf(at, 'hourly', 'utc'),
    { start: Date.parse('2026-11-22T13:00:00Z'), end: Date.parse('2026-11-22T14:00:00Z') },
    'a UTC hour',
  )
  t.equal(periodKey(at, 'daily', 'utc'), '2026-11-22', 'daily key')
  t.equal(periodKey(at, 'hourly', 'utc'), '2026-11-22T13', 'hourly key')
})

t.test('local periods follow the local calendar', async (t) => {
  const at = new Date(2026, 10, 22, 13, 45, 30).getTime()
  const day = periodOf(at, 'daily', 'local')
  t.equal(day.start, new Date(2026, 10, 22).getTime(), 'local midnight')
  t.equal(day.end, new Date(2026, 10, 23).getTime(), 'the next local midnight')
  const hour = periodOf(at, 'hourly', 'local')
  t.equal(hour.start, new Date(2026, 10, 22, 13).getTime(), 'the local hour')
  t.equal(hour.end - hour.start, 3_600_000, 'an hour long')
  t.equal(periodKey(at, 'hourly', 'local'), '2026-11-22T13', 'local hourly key')
})

t.test('the history file sits next to the log', async (t) => {
  t.equal(historyPathOf('/var/log/app.log'), '/var/log/app.log.history.jsonl', '<path>.history.jsonl')
})
