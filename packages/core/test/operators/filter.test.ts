import { from, toArray } from 'rxjs'
import t from 'tap'
import type { LogEntry } from '../../src/entry.js'
import { Fields } from '../../src/fields.js'
import { compileFilter, filter, filterDefinition } from '../../src/operators/filter.js'
import { validateOptions } from '../../src/plugin.js'
import { marbles, testEntries, testEntry } from '../../src/testing/marbles.js'

/** Fields that throw when anything reads them: proves an operator left them alone. */
function untouchableFields(): Fields {
  return new Proxy(Fields.fromJSON('{"a":1}'), {
    get() {
      throw new Error('the fields were read')
    },
  })
}

function collect(entries: LogEntry[], operator: ReturnType<typeof filter>): LogEntry[] {
  let out: LogEntry[] = []
  from(entries)
    .pipe(operator, toArray())
    .subscribe((all) => {
      out = all
    })
  return out
}

t.test('filter keeps entries at or above a level given by name', (t) => {
  const e = testEntries({
    a: { level: 10, msg: 'trace' },
    b: { level: 30, msg: 'info' },
    c: { level: 35, msg: 'between' },
    d: { level: 60, msg: 'fatal' },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcd|', e)
    const expected = '-bcd|'
    expectObservable(source.pipe(filter({ level: 'INFO' }))).toBe(expected, e)
  })
  t.end()
})

t.test('filter keeps entries at or above a level given by number', (t) => {
  const e = testEntries({ a: { level: 30 }, b: { level: 40 }, c: { level: 50 } })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('a-b-c|', e)
    const expected = '----c|'
    expectObservable(source.pipe(filter({ level: 45 }))).toBe(expected, e)
  })
  t.end()
})

t.test('filter include keeps messages matching any substring, /re/ string or RegExp', (t) => {
  const e = testEntries({
    a: 'user login',
    b: 'GET /health',
    c: 'Payment OK',
    d: 'cache miss',
    e: 'queue full',
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcde|', e)
    const expected = 'abc-e|'
    expectObservable(source.pipe(filter({ include: ['login', '/^get /i', /payment/i, /full$/g] }))).toBe(
      expected,
      e,
    )
  })
  t.end()
})

t.test('filter exclude drops messages matching any pattern', (t) => {
  const e = testEntries({
    a: 'GET /healthcheck',
    b: 'order placed',
    c: 'GET /metrics 200',
    d: 'order failed',
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcd|', e)
    const expected = '-b-d|'
    expectObservable(source.pipe(filter({ exclude: ['healthcheck', '/^GET \\/metrics/'] }))).toBe(expected, e)
  })
  t.end()
})

t.test('filter with include and exclude keeps what is included and not excluded', (t) => {
  const e = testEntries({ a: 'order placed', b: 'order test placed', c: 'user created' })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abc|', e)
    const expected = 'a--|'
    expectObservable(source.pipe(filter({ include: 'order', exclude: 'test' }))).toBe(expected, e)
  })
  t.end()
})

t.test('a global regex filters the same way on every entry', (t) => {
  const e = testEntries({ a: 'err one', b: 'err two', c: 'err three' })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abc|', e)
    const expected = 'abc|'
    expectObservable(source.pipe(filter({ include: '/err/g' }))).toBe(expected, e)
  })
  t.end()
})

t.test('filter fields conditions compare values and test /re/ patterns, all of which must hold', (t) => {
  const e = testEntries({
    a: { fields: { req: { method: 'POST', status: 503 } } },
    b: { fields: { req: { method: 'GET', status: 503 } } },
    c: { fields: { req: { method: 'POST', status: 200 } } },
    d: { fields: { other: true } },
    e: { fields: { req: { method: 'POST', status: 500 } } },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcde|', e)
    const expected = 'a---e|'
    const operator = filter({ fields: { 'req.method': 'POST', 'req.status': '/^5\\d\\d$/' } })
    expectObservable(source.pipe(operator)).toBe(expected, e)
  })
  t.end()
})

t.test('filter fields conditions match numbers, booleans, null and RegExp objects exactly', (t) => {
  const e = testEntries({
    a: { fields: { n: 1, ok: true, gone: null, id: 'abc-123' } },
    b: { fields: { n: '1', ok: true, gone: null, id: 'abc-123' } },
    c: { fields: { n: 1, ok: 'true', gone: null, id: 'abc-123' } },
    d: { fields: { n: 1, ok: true, id: 'abc-123' } },
    e: { fields: { n: 1, ok: true, gone: null, id: { nested: 'abc-1' } } },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcde|', e)
    const expected = 'a----|'
    const operator = filter({ fields: { n: 1, ok: true, gone: null, id: /^abc-\d+$/ } })
    expectObservable(source.pipe(operator)).toBe(expected, e)
  })
  t.end()
})

t.test('filter app and source accept a name, a list and * globs', (t) => {
  const e = testEntries({
    a: { app: 'shop', source: 'db.pool' },
    b: { app: 'shop', source: 'http' },
    c: { app: 'admin', source: 'db.query' },
    d: { app: 'shop-eu', source: 'cache' },
    e: { app: 'shop-eu', source: 'db' },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcde|', e)
    const expected = 'a---e|'
    expectObservable(source.pipe(filter({ app: ['shop', 'shop-*'], source: ['db', 'db.*'] }))).toBe(
      expected,
      e,
    )
  })
  t.end()
})

t.test('a glob matches whole names and treats regex characters literally', (t) => {
  const e = testEntries({ a: { source: 'a.b' }, b: { source: 'axb' }, c: { source: 'xa.b' } })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abc|', e)
    const expected = 'a--|'
    expectObservable(source.pipe(filter({ source: 'a.*' }))).toBe(expected, e)
  })
  t.end()
})

t.test('filter keeps an entry only when every condition holds', (t) => {
  const e = testEntries({
    a: { level: 50, app: 'shop', source: 'db', msg: 'query failed', fields: { table: 'orders' } },
    b: { level: 30, app: 'shop', source: 'db', msg: 'query failed', fields: { table: 'orders' } },
    c: { level: 50, app: 'blog', source: 'db', msg: 'query failed', fields: { table: 'orders' } },
    d: { level: 50, app: 'shop', source: 'http', msg: 'query failed', fields: { table: 'orders' } },
    e: { level: 50, app: 'shop', source: 'db', msg: 'connect failed', fields: { table: 'orders' } },
    f: { level: 50, app: 'shop', source: 'db', msg: 'query failed (test)', fields: { table: 'orders' } },
    g: { level: 50, app: 'shop', source: 'db', msg: 'query failed', fields: { table: 'users' } },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcdefg|', e)
    const expected = 'a------|'
    const operator = filter({
      level: 'error',
      app: 'shop',
      source: 'db',
      include: 'query',
      exclude: '(test)',
      fields: { table: 'orders' },
    })
    expectObservable(source.pipe(operator)).toBe(expected, e)
  })
  t.end()
})

t.test('filter without conditions keeps every entry', (t) => {
  const e = testEntries({ a: 'one', b: { level: 10 } })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab|', e)
    const expected = 'ab|'
    expectObservable(source.pipe(filter())).toBe(expected, e)
  })
  t.end()
})

t.test('filter does not read fields unless a fields condition needs them', (t) => {
  const entry = { ...testEntry({ level: 50, msg: 'boom', app: 'shop' }), fields: untouchableFields() }
  const kept = collect([entry], filter({ level: 'warn', app: 'shop', include: 'boom', exclude: 'nope' }))
  t.equal(kept.length, 1, 'the entry passes')
  t.equal(kept[0], entry, 'the entry passes as the same object')
  const early = collect([entry], filter({ level: 'fatal', fields: { a: 1 } }))
  t.equal(early.length, 0, 'an entry failing a cheaper condition is dropped before its fields are looked at')
  t.end()
})

t.test('filter errors on bad options when it is made, not per entry', (t) => {
  t.throws(() => filter({ level: 'loud' }), { code: 'LOGKIT_ERR_OPTIONS_INVALID' }, 'an unknown level throws')
  t.throws(
    () => filter({ include: '/(unclosed/' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a bad regex throws',
  )
  t.throws(
    () => filter({ fields: { a: '/[z-a]/' } }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a bad regex in a fields condition throws',
  )
  t.throws(() => filter({ app: [] }), { code: 'LOGKIT_ERR_OPTIONS_INVALID' }, 'an empty list of apps throws')
  t.end()
})

t.test('the filter definition validates manifest options', (t) => {
  const ok = validateOptions(filterDefinition, {
    level: 'info',
    exclude: ['healthcheck'],
    fields: { 'req.status': 500 },
  })
  t.same(
    ok,
    { level: 'info', exclude: ['healthcheck'], fields: { 'req.status': 500 } },
    'good options pass as given',
  )
  t.throws(
    () => validateOptions(filterDefinition, { level: 'loud' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown level is rejected',
  )
  t.throws(
    () => validateOptions(filterDefinition, { include: '/(/' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a bad regular expression is rejected',
  )
  t.throws(
    () => validateOptions(filterDefinition, { levle: 'info' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown option is rejected',
  )
  t.throws(
    () => validateOptions(filterDefinition, { fields: { a: { b: 1 } } }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an object as a field condition is rejected',
  )
  t.end()
})

t.test('the filter definition creates an operator that filters', (t) => {
  const operator = filterDefinition.create(validateOptions(filterDefinition, { level: 'warn' }), {
    id: 'filter',
    app: '',
    flushes: from([]),
    report: () => {},
  })
  const e = testEntries({ a: { level: 30 }, b: { level: 40 } })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab|', e)
    const expected = '-b|'
    expectObservable(source.pipe(operator)).toBe(expected, e)
  })
  t.end()
})

t.test('prototype keys are neither levels nor fields in a filter', (t) => {
  for (const level of ['constructor', '__proto__', 'toString']) {
    t.throws(
      () => validateOptions(filterDefinition, { level }),
      { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
      `the manifest's level ${JSON.stringify(level)} is rejected`,
    )
    t.throws(
      () => filter({ level }),
      { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
      `filter({ level: ${JSON.stringify(level)} }) throws`,
    )
  }
  const plain = testEntry({ msg: 'plain', fields: { a: { b: 1 } } })
  const own = testEntry({ msg: 'own', fields: Fields.fromJSON('{"constructor":"x"}') })
  t.same(
    collect([plain, own], filter({ fields: { constructor: '/./' } })).map((e) => e.msg),
    ['own'],
    'a fields condition on constructor matches only an own member of that name',
  )
  t.same(
    collect([plain], filter({ fields: { 'a.toString': '/function/' } })).map((e) => e.msg),
    [],
    'nor does a path reach a method of a value',
  )
  t.end()
})

t.test('compileFilter is the predicate filter applies to entries', (t) => {
  const e = testEntries({
    a: { level: 30, app: 'shop', msg: 'order placed', fields: { n: 1 } },
    b: { level: 50, app: 'shop', msg: 'order failed', fields: { n: 2 } },
    c: { level: 50, app: 'admin', msg: 'order failed', fields: { n: 1 } },
    d: { level: 60, app: 'shop-eu', msg: 'order failed', fields: { n: 1 } },
  })
  const keep = compileFilter({ level: 'error', app: 'shop*', include: 'order', fields: { n: 1 } })
  t.same(
    Object.entries(e)
      .filter(([, entry]) => keep(entry))
      .map(([name]) => name),
    ['d'],
    'it keeps the entry that meets every condition',
  )
  t.end()
})
