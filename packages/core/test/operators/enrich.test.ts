import { hostname } from 'node:os'
import { from, toArray } from 'rxjs'
import t from 'tap'
import type { LogEntry } from '../../src/entry.js'
import { Fields } from '../../src/fields.js'
import { type EnrichOptions, enrich, enrichDefinition } from '../../src/operators/enrich.js'
import { validateOptions } from '../../src/plugin.js'
import { marbles, testEntries, testEntry } from '../../src/testing/marbles.js'

function run(options: EnrichOptions, ...entries: LogEntry[]): LogEntry[] {
  let out: LogEntry[] = []
  from(entries)
    .pipe(enrich(options), toArray())
    .subscribe((all) => {
      out = all
    })
  return out
}

/** Fields that throw when anything reads them: proves an operator left them alone. */
function untouchableFields(): Fields {
  return new Proxy(Fields.fromJSON('{"a":1}'), {
    get() {
      throw new Error('the fields were read')
    },
  })
}

t.test('enrich adds static fields, and the entry own fields win', (t) => {
  const e = testEntries({
    a: { msg: 'no fields' },
    b: { fields: { user: 'ann' } },
    c: { fields: { region: 'us-east-1', user: 'bob' } },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abc|', e)
    const expected = 'xyz|'
    expectObservable(source.pipe(enrich({ fields: { region: 'eu-west-1', tier: 2 } }))).toBe(expected, {
      x: { ...e.a, fields: Fields.of({ region: 'eu-west-1', tier: 2 }) },
      y: { ...e.b, fields: Fields.of({ region: 'eu-west-1', tier: 2, user: 'ann' }) },
      z: { ...e.c, fields: Fields.of({ region: 'us-east-1', tier: 2, user: 'bob' }) },
    })
  })
  t.end()
})

t.test('enrich with override lets the static fields win', (t) => {
  const [out] = run(
    { fields: { region: 'eu-west-1' }, override: true },
    testEntry({ fields: { region: 'us', a: 1 } }),
  )
  t.same(out?.fields.value, { region: 'eu-west-1', a: 1 }, 'the static value replaces the entry own')
  t.end()
})

t.test('enrich splices fields without a parse when no key can collide', (t) => {
  const [out] = run(
    { fields: { region: 'eu' } },
    testEntry({ fields: Fields.fromJSON('{"user":"ann","n":1}') }),
  )
  t.equal(
    out?.fields.json,
    '{"region":"eu","user":"ann","n":1}',
    'the added members come first, the own text follows as it was',
  )
  const [over] = run(
    { fields: { region: 'eu' }, override: true },
    testEntry({ fields: Fields.fromJSON('{"user":"ann"}') }),
  )
  t.equal(over?.fields.json, '{"user":"ann","region":"eu"}', 'with override the added members come last')
  const [spaced] = run(
    { fields: { region: 'eu' } },
    testEntry({ fields: Fields.fromJSON('{ "region" : "us" }') }),
  )
  t.equal(
    spaced?.fields.json,
    '{"region":"us"}',
    'a key followed by spaces is still seen as a collision and merged once',
  )
  t.end()
})

t.test('enrich sets hostname, app and source only where empty', (t) => {
  const e = testEntries({
    a: { msg: 'bare' },
    b: { hostname: 'web-1', app: 'blog', source: 'db' },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab|', e)
    const expected = 'xb|'
    expectObservable(source.pipe(enrich({ hostname: 'collector', app: 'shop', source: 'main' }))).toBe(
      expected,
      {
        x: { ...e.a, hostname: 'collector', app: 'shop', source: 'main' },
        b: e.b,
      },
    )
  })
  t.end()
})

t.test('enrich with override sets hostname, app and source always', (t) => {
  const [out] = run(
    { hostname: 'collector', app: 'shop', source: 'main', override: true },
    testEntry({ hostname: 'web-1', app: 'blog', source: 'db' }),
  )
  t.equal(out?.hostname, 'collector', 'hostname is replaced')
  t.equal(out?.app, 'shop', 'app is replaced')
  t.equal(out?.source, 'main', 'source is replaced')
  t.end()
})

t.test('enrich hostname true uses this machine name', (t) => {
  const [out] = run({ hostname: true }, testEntry())
  t.equal(out?.hostname, hostname(), 'os.hostname() is set')
  t.end()
})

t.test('enrich passes on an entry with nothing to change as the same object, fields unread', (t) => {
  const entry = { ...testEntry({ hostname: 'h', app: 'a', source: 's' }), fields: untouchableFields() }
  const out = run({ hostname: 'other', app: 'b', source: 't' }, entry)
  t.equal(out[0], entry, 'the same object comes out')
  const changed = run({ app: 'b', override: true }, entry)
  t.equal(changed[0]?.app, 'b', 'an entry that changes without a fields option has its fields left unread')
  t.end()
})

t.test('enrich carries the ack reference along', (t) => {
  const ack = { stream: { id: 'shm:1' }, position: 9 }
  const [out] = run({ app: 'shop', fields: { a: 1 } }, { ...testEntry(), ack })
  t.equal(out?.ack, ack, 'the enriched entry keeps its ack')
  t.end()
})

t.test('the enrich definition validates manifest options', (t) => {
  t.throws(
    () => validateOptions(enrichDefinition, { hostname: 3 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a hostname that is neither true nor a name is rejected',
  )
  t.throws(
    () => validateOptions(enrichDefinition, { fields: 'region=eu' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'fields that are not an object are rejected',
  )
  t.throws(
    () => validateOptions(enrichDefinition, { host: 'x' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown option is rejected',
  )
  const op = enrichDefinition.create(
    validateOptions(enrichDefinition, { fields: { dc: { name: 'fra', racks: [1, 2] } }, app: 'shop' }),
    { id: 'enrich', app: '', flushes: from([]), report: () => {} },
  )
  let out: LogEntry[] = []
  from([testEntry()])
    .pipe(op, toArray())
    .subscribe((all) => {
      out = all
    })
  t.same(
    out[0]?.fields.value,
    { dc: { name: 'fra', racks: [1, 2] } },
    'the created operator adds nested JSON fields',
  )
  t.equal(out[0]?.app, 'shop', 'and sets the app')
  t.end()
})
