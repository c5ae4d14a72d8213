import { from, NEVER, toArray } from 'rxjs'
import t from 'tap'
import type { DiagnosticReporter } from '../../src/diagnostics.js'
import { createEntry, type LogEntry } from '../../src/entry.js'
import { rateLimit, rateLimitDefinition } from '../../src/operators/rate-limit.js'
import { validateOptions } from '../../src/plugin.js'
import { marbles, testEntries } from '../../src/testing/marbles.js'
import { msToNs } from '../../src/time.js'

/** The summary entry rateLimit emits at `atMs` for `dropped` entries. */
function summary(atMs: number, dropped: number, byKey?: Record<string, number>, per = '1s'): LogEntry {
  return createEntry({
    time: msToNs(atMs),
    level: 40,
    source: 'logkit',
    msg: `rateLimit dropped ${dropped} ${dropped === 1 ? 'entry' : 'entries'} in the last ${per}`,
    fields: byKey === undefined ? { dropped } : { dropped, byKey },
  })
}

function recorder(): { report: DiagnosticReporter; seen: Parameters<DiagnosticReporter>[0][] } {
  const seen: Parameters<DiagnosticReporter>[0][] = []
  return { report: (d) => seen.push(d), seen }
}

t.test('rateLimit admits a burst, then perSecond', (t) => {
  const e = testEntries({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcd 999ms e|', e)
    const expected = '   ab-- 998ms Se|'
    expectObservable(source.pipe(rateLimit({ perSecond: 1, burst: 2 }))).toBe(expected, {
      ...e,
      S: summary(1002, 2),
    })
  })
  t.end()
})

t.test('rateLimit refills tokens continuously at perSecond and flushes its summary on completion', (t) => {
  const e = testEntries({ a: 'a', b: 'b', c: 'c', d: 'd' })
  marbles(t).run(({ cold, expectObservable }) => {
    // 10 per second: a token every 100 ms; burst 1.
    const source = cold('a 49ms b 49ms c 99ms d|', e)
    const expected = '   a 49ms - 49ms c 99ms d(S|)'
    const op = rateLimit({ perSecond: 10, burst: 1 })
    expectObservable(source.pipe(op)).toBe(expected, { ...e, S: summary(201, 1) })
  })
  t.end()
})

t.test('rateLimit emits one summary per interval with drops, with the exact count', (t) => {
  const e = testEntries({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e', f: 'f', g: 'g', h: 'h', i: 'i', j: 'j' })
  const { report, seen } = recorder()
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcde 1000ms    fghij|', e)
    const expected = '   a 1000ms S 3ms f----(T|)'
    expectObservable(source.pipe(rateLimit({ perSecond: 1, burst: 1, report }))).toBe(expected, {
      ...e,
      S: summary(1001, 4),
      T: summary(1010, 4),
    })
  })
  t.same(
    seen.map((d) => [d.code, d.count]),
    [
      ['dropped', 4],
      ['dropped', 4],
    ],
    'each summary is also reported as a dropped diagnostic with its count',
  )
  t.end()
})

t.test('rateLimit emits no summary when it dropped nothing', (t) => {
  const e = testEntries({ a: 'a', b: 'b', c: 'c' })
  const { report, seen } = recorder()
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('a 500ms b 500ms c|', e)
    const expected = '   a 500ms b 500ms c|'
    expectObservable(source.pipe(rateLimit({ perSecond: 2, report }))).toBe(expected, e)
  })
  t.same(seen, [], 'nothing is reported')
  t.end()
})

t.test('rateLimit names the interval in the summary and says "entry" for one', (t) => {
  const e = testEntries({ a: 'a', b: 'b' })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab 1s |', e)
    const expected = '   a- 249ms S 750ms |'
    const op = rateLimit({ perSecond: 1, summaryIntervalMs: 250 })
    expectObservable(source.pipe(op)).toBe(expected, { ...e, S: summary(251, 1, undefined, '250ms') })
  })
  t.end()
})

t.test('rateLimit keeps one bucket per key, each with its own burst', (t) => {
  const e = testEntries({
    a: { source: 'db', msg: '1' },
    b: { source: 'http', msg: '2' },
    c: { source: 'db', msg: '3' },
    d: { source: 'http', msg: '4' },
    f: { source: 'db', msg: '5' },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcdf|', e)
    const expected = '   ab---(S|)'
    const op = rateLimit({ perSecond: 1, burst: 1, key: 'source' })
    expectObservable(source.pipe(op)).toBe(expected, { ...e, S: summary(5, 3, { db: 2, http: 1 }) })
  })
  t.end()
})

t.test('rateLimit keeps at most maxKeys buckets and forgets the least recently used', (t) => {
  const e = testEntries({
    a: { source: 'x' },
    b: { source: 'y' },
    c: { source: 'x' },
    d: { source: 'z' },
    f: { source: 'x' },
    g: { source: 'y' },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    // x, y admitted; x dropped (and most recent); z evicts y; x still limited; y starts afresh.
    const source = cold('abcdfg|', e)
    const expected = '   ab-d-g(S|)'
    const op = rateLimit({ perSecond: 1, burst: 1, key: 'source', maxKeys: 2 })
    expectObservable(source.pipe(op)).toBe(expected, { ...e, S: summary(6, 2, { x: 2 }) })
  })
  t.end()
})

t.test('rateLimit lists at most the ten busiest keys in a summary', (t) => {
  const entries = []
  for (let k = 0; k < 12; k++) {
    // key k is logged k + 2 times: one admitted, k + 1 dropped.
    for (let i = 0; i < k + 2; i++) entries.push(createEntry({ source: `s${k}` }))
  }
  let out: LogEntry[] = []
  from(entries)
    .pipe(rateLimit({ perSecond: 1, burst: 1, key: 'source' }), toArray())
    .subscribe((all) => {
      out = all
    })
  const last = out.at(-1)
  t.equal(out.length, 13, 'one entry per key and one summary come out')
  t.equal(last?.fields.get('dropped'), 78, 'the summary counts every drop')
  t.same(
    last?.fields.get('byKey'),
    { s11: 12, s10: 11, s9: 10, s8: 9, s7: 8, s6: 7, s5: 6, s4: 5, s3: 4, s2: 3 },
    'byKey lists the ten keys that dropped most',
  )
  t.end()
})

t.test('rateLimit keys by level name, by field path and by a function', (t) => {
  const e = testEntries({
    a: { level: 30, fields: { user: { id: 7 } } },
    b: { level: 35, fields: { user: { id: 8 } } },
    c: { level: 40, fields: { user: { id: 7 } } },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abc|', e)
    const byLevel = 'a-c(S|)'
    const byField = 'ab-(T|)'
    const byFunction = 'abc|'
    expectObservable(source.pipe(rateLimit({ perSecond: 1, burst: 1, key: 'level' }))).toBe(byLevel, {
      ...e,
      S: summary(3, 1, { info: 1 }),
    })
    expectObservable(source.pipe(rateLimit({ perSecond: 1, burst: 1, key: 'fields.user.id' }))).toBe(
      byField,
      {
        ...e,
        T: summary(3, 1, { '7': 1 }),
      },
    )
    expectObservable(source.pipe(rateLimit({ perSecond: 1, burst: 1, key: (x) => x.msg + x.level }))).toBe(
      byFunction,
      e,
    )
  })
  t.end()
})

t.test('an entry whose key function throws is limited in a shared bucket and reported', (t) => {
  const e = testEntries({ a: 'a', b: 'b' })
  const { report, seen } = recorder()
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab|', e)
    const expected = 'a-(S|)'
    const key = (): string => {
      throw new Error('no key')
    }
    expectObservable(source.pipe(rateLimit({ perSecond: 1, burst: 1, key, report }))).toBe(expected, {
      ...e,
      S: summary(2, 1, { '': 1 }),
    })
  })
  t.same(
    seen.map((d) => d.code),
    ['key_failed', 'key_failed', 'dropped'],
    'each failed key is reported, and the drop too',
  )
  t.end()
})

t.test('rateLimit emits a pending summary before passing an error on', (t) => {
  const e = testEntries({ a: 'a', b: 'b' })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab#', e)
    const expected = 'a-(S#)'
    expectObservable(source.pipe(rateLimit({ perSecond: 1 }))).toBe(expected, { ...e, S: summary(2, 1) })
  })
  t.end()
})

t.test('rateLimit reports drops pending at unsubscription and cancels its timer', (t) => {
  const e = testEntries({ a: 'a', b: 'b' })
  const { report, seen } = recorder()
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab 2s |', e)
    const unsub = '     ^-- 5ms !'
    const expected = '   a-------'
    expectObservable(source.pipe(rateLimit({ perSecond: 1, report })), unsub).toBe(expected, e)
  })
  t.same(
    seen.map((d) => [d.code, d.count]),
    [['dropped', 1]],
    'the one drop is reported once, though no summary could be emitted',
  )
  t.end()
})

t.test('rateLimit gives each subscription its own buckets', (t) => {
  const e = testEntries({ a: 'a', b: 'b' })
  marbles(t).run(({ cold, expectObservable }) => {
    const limited = cold('ab|', e).pipe(rateLimit({ perSecond: 1 }))
    const expected = 'a-(S|)'
    expectObservable(limited).toBe(expected, { ...e, S: summary(2, 1) })
    expectObservable(limited).toBe(expected, { ...e, S: summary(2, 1) })
  })
  t.end()
})

t.test('rateLimit emits summaries on the scheduler while the source stays open', (t) => {
  const e = testEntries({ a: 'a', b: 'b' })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab', e)
    const expected = 'a- 999ms S'
    expectObservable(source.pipe(rateLimit({ perSecond: 1 })), '^ 1500ms !').toBe(expected, {
      ...e,
      S: summary(1001, 1),
    })
  })
  t.end()
})

t.test('rateLimit rejects bad options when it is made', (t) => {
  t.throws(() => rateLimit({ perSecond: 0 }), { code: 'LOGKIT_ERR_OPTIONS_INVALID' }, 'perSecond 0 throws')
  t.throws(
    () => rateLimit({ perSecond: 1, burst: 0.5 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a burst below 1 throws',
  )
  t.throws(
    () => rateLimit({ perSecond: 1, maxKeys: 0 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'maxKeys 0 throws',
  )
  t.throws(
    () => rateLimit({ perSecond: 1, summaryIntervalMs: -1 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a negative interval throws',
  )
  t.throws(
    () => rateLimit({ perSecond: 1, key: 'pid' as 'app' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown key throws',
  )
  t.end()
})

t.test('the rateLimit definition validates manifest options', (t) => {
  t.throws(
    () => validateOptions(rateLimitDefinition, { perSecond: 'x' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a perSecond that is not a number is rejected',
  )
  t.throws(
    () => validateOptions(rateLimitDefinition, {}),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'perSecond is required',
  )
  t.throws(
    () => validateOptions(rateLimitDefinition, { perSecond: 1, key: 'pid' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown key is rejected',
  )
  t.throws(
    () => validateOptions(rateLimitDefinition, { perSecond: 1, brust: 2 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown option is rejected',
  )
  t.same(
    validateOptions(rateLimitDefinition, { perSecond: 1000, burst: 2000, key: 'fields.user.id' }),
    { perSecond: 1000, burst: 2000, key: 'fields.user.id' },
    'good options pass as given',
  )
  t.end()
})

t.test('the rateLimit definition uses the context scheduler and reporter', (t) => {
  const { report, seen } = recorder()
  const scheduler = marbles(t)
  scheduler.run(({ cold, expectObservable }) => {
    const op = rateLimitDefinition.create(validateOptions(rateLimitDefinition, { perSecond: 1 }), {
      id: 'main.operators[0]:rateLimit',
      app: '',
      flushes: NEVER,
      report,
      scheduler,
    })
    const e = testEntries({ a: 'a', b: 'b' })
    const source = cold('ab 2s |', e)
    const expected = 'a- 999ms S 1000ms |'
    expectObservable(source.pipe(op)).toBe(expected, { ...e, S: summary(1001, 1) })
  })
  t.equal(seen[0]?.count, 1, 'the drop went to the context reporter')
  t.end()
})
