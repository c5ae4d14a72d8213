// filter on the collector's byte path: for batches of entries that are still
// bytes it must keep exactly the rows whose decoded entries the entry path
// keeps, emit them as a selection of the same index, and decode only what a
// condition reads.

import { from, type MonoTypeOperatorFunction, Subject, toArray } from 'rxjs'
import t from 'tap'
import { createEntry, type LogEntry } from '../../src/entry.js'
import { Fields } from '../../src/fields.js'
import { type FilterOptions, filter } from '../../src/operators/filter.js'
import { takesBatches } from '../../src/operators/holds.js'
import { EntryBatch, isEntryBatch } from '../../src/wire/entry-batch.js'
import { SPAN_APP, SPAN_FIELDS, SPAN_MESSAGE, SPAN_SOURCE } from '../../src/wire/entry-index.js'
import { wireImplementation } from '../../src/wire/native.js'
import { random } from '../helpers.js'
import {
  batchOf,
  decodedItems,
  framesOf,
  itemsOf,
  poolBatch,
  poolEntry,
  repeatingBatch,
  seqAndMsg,
  spyOnDecoding,
} from './batch-entries.js'

function run(
  items: readonly (LogEntry | EntryBatch)[],
  operator: MonoTypeOperatorFunction<LogEntry>,
): unknown[] {
  let out: unknown[] = []
  from(items as LogEntry[])
    .pipe(operator, toArray())
    .subscribe((all) => {
      out = all
    })
  return out
}

function maybe<T>(rnd: () => number, list: readonly T[]): T | undefined {
  return rnd() < 0.5 ? undefined : (list[Math.floor(rnd() * list.length)] as T)
}

function randomOptions(rnd: () => number): FilterOptions {
  const options: Record<string, unknown> = {
    level: maybe(rnd, ['info', 'WARN', 35, 50, 'trace']),
    app: maybe(rnd, ['shop', ['shop*'], ['*-eu', 'admin'], '*', '日*', 'shop-α*', ['', 'shop\u0000eu']]),
    source: maybe(rnd, ['db.*', ['http', 'cache'], '*.query', '*', '✓*', 'db.α*', '']),
    include: maybe(rnd, ['order', ['/^get /i', 'login'], /fail/i, '/é|✓/', /health/g, '']),
    exclude: maybe(rnd, ['health', ['/^GET/'], '/\\u0000/', 'ORDER', '/^$/']),
    fields: maybe(rnd, [
      { 'req.method': 'POST' },
      { 'req.status': '/^5\\d\\d$/' },
      { 'user.id': 7 },
      { 'user.id': null, ok: true },
      { 'req.status': /^50/, 'req.method': '/^post$/i' },
      { ok: 'true' },
      { 'nope.x': 1 },
    ]),
  }
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key]
  return options as FilterOptions
}

t.test(
  'filter keeps the rows of batches whose entries it keeps, for many combinations of conditions',
  (t) => {
    const rnd = random(20240501)
    const whole = poolBatch(rnd, 4000)
    const items = itemsOf(rnd, whole)
    const decoded = decodedItems(items)
    t.equal(
      decoded.length > 4000,
      true,
      'the stream holds 4000 entries in batches and plain entries between them',
    )
    let partial = 0
    const combinations = 250
    for (let c = 0; c < combinations; c++) {
      const options = randomOptions(rnd)
      const byEntries = run(decoded, filter(options))
      const byBatches = run(items, filter(options))
      t.same(
        seqAndMsg(byBatches, whole.index),
        seqAndMsg(byEntries, whole.index),
        `the same entries, in the same order, for ${String(JSON.stringify(options, (_, v) => (v instanceof RegExp ? String(v) : v)))}`,
      )
      if (byEntries.length > 0 && byEntries.length < decoded.length) partial++
    }
    t.ok(partial > combinations / 2, `most combinations keep some entries and drop others (${partial})`)
    t.end()
  },
)

t.test('filter emits a batch kept whole as it is, and nothing for a batch it drops entirely', (t) => {
  const batch = poolBatch(random(7), 300)
  const all = run([batch], filter({ level: 0 }))
  t.equal(all.length, 1, 'one item out')
  t.equal(all[0], batch, 'the batch itself: no new rows array')
  t.same(run([batch], filter({ level: 70 })), [], 'nothing for a batch none of whose rows is kept')
  const some = run([batch], filter({ level: 'error' }))
  t.ok(some.length === 1 && isEntryBatch(some[0]), 'a batch with some rows kept comes out as one batch')
  const narrowed = some[0] as EntryBatch
  t.equal(narrowed.index, batch.index, 'of the same index')
  t.ok(narrowed.length > 0 && narrowed.length < batch.length, 'with fewer rows')
  t.ok(
    Array.from(narrowed.rows.subarray(0, narrowed.length)).every(
      (row) => (batch.index.level[row] as number) >= 50,
    ),
    'its rows are the rows at error and above',
  )
  t.end()
})

t.test('filter is branded as taking batches and still filters plain entries', (t) => {
  const operator = filter({ level: 'warn' })
  t.ok(takesBatches(operator), 'the runtime may hand it batches')
  const entries = [poolEntry(random(3), 1), poolEntry(random(4), 2), poolEntry(random(5), 3)]
  t.same(
    run(entries, operator),
    entries.filter((e) => e.level >= 40),
    'plain entries come out as the same objects when kept',
  )
  t.end()
})

t.test('filter decides level, app and source from the bytes, without decoding a string per row', (t) => {
  const rnd = random(11)
  // The common case: a few apps and sources, the same on row after row.
  const { entries, batch } = repeatingBatch(rnd)
  const spy = spyOnDecoding(batch)
  t.teardown(() => spy.restore())

  const kept = run([batch], filter({ level: 'info', app: 'shop*', source: ['db.*', 'http'] }))
  t.equal(spy.entries(), 0, 'no entry is decoded')
  t.equal(
    seqAndMsg(kept, batch.index).length,
    entries.filter((e) => e.level >= 30 && e.app === 'shop' && e.source !== 'cache').length,
    'it keeps the entries at info and above of app shop from db.pool and http',
  )
  t.equal(spy.text.get(SPAN_APP), 2, 'each of the two apps is decoded once')
  t.equal(spy.text.get(SPAN_SOURCE), 3, 'each of the three sources is decoded once')
  t.notOk(spy.text.has(SPAN_MESSAGE) || spy.text.has(SPAN_FIELDS), 'neither message nor fields is decoded')

  spy.text.clear()
  run([batch], filter({ level: 'warn', include: 'order' }))
  const warnAndAbove = entries.filter((e) => e.level >= 40).length
  t.equal(
    spy.text.get(SPAN_MESSAGE),
    warnAndAbove,
    'include decodes the message of each row at the level, no other',
  )
  t.notOk(spy.text.has(SPAN_FIELDS), 'a message condition leaves the fields alone')

  spy.text.clear()
  const before = spy.entries()
  run([batch], filter({ app: 'admin', fields: { 'user.id': 7 } }))
  t.equal(spy.entries(), before, 'still no entry is decoded')
  if (wireImplementation() === 'native') {
    t.notOk(
      spy.text.has(SPAN_FIELDS),
      'with the native wire loops the value is found in the bytes: no fields decoded',
    )
  } else {
    t.equal(
      spy.text.get(SPAN_FIELDS),
      1000,
      'a fields condition decodes the fields of each row of the app, no other',
    )
  }
  t.notOk(spy.text.has(SPAN_MESSAGE), 'a fields condition leaves the message alone')
  t.end()
})

t.test('filter remembers app and source by their bytes, not by where they are, across batches', (t) => {
  // A ring's memory is reused: in the next batch the same byte positions hold another app.
  const rnd = random(12)
  const first = Array.from({ length: 50 }, (_, i) => ({ ...poolEntry(rnd, i + 1), app: 'shop' }))
  const second = first.map((e) => ({ ...e, app: 'shoq' }))
  const buf = framesOf(random(1), first)
  const index = batchOf(buf).index
  const input = new Subject<LogEntry>()
  const out: unknown[] = []
  input.pipe(filter({ app: 'shop' })).subscribe((item) => out.push(item))
  input.next(EntryBatch.of(index) as unknown as LogEntry)
  t.equal(out.length, 1, 'the first batch is kept')
  const again = framesOf(random(1), second)
  t.equal(again.length, buf.length, 'the second frames are the same size')
  again.copy(buf)
  index.index(buf)
  input.next(EntryBatch.of(index) as unknown as LogEntry)
  t.equal(out.length, 1, 'the other app at the same byte positions is not taken for the one remembered')
  t.end()
})

t.test(
  'fields written by hand: the value at a path is the one JSON.parse gives, whatever the bytes look like',
  (t) => {
    // Texts no logkit writer makes but a producer of another language may:
    // duplicate keys, escaped keys and strings (surrogate pairs too), numbers written otherwise,
    // paths through arrays, whitespace the line's check refuses, invalid text.
    const texts = [
      '{"user":{"id":7}}',
      '{"user":{"id":7},"user":{"id":8}}',
      '{"user":{"id":8,"id":7}}',
      '{"user":{"i\\u0064":7}}',
      '{"\\u0075ser":{"id":7}}',
      '{"user":{"id":7.0}}',
      '{"user":{"id":7e0}}',
      '{"user":{"id":-0}}',
      '{"user":{"id":0}}',
      '{"user":{"id":70}}',
      '{"user":{"id":"7"}}',
      '{"user":{"id":[7]}}',
      '{"user":[{"id":7}]}',
      '{"user":{"id":{"n":7}}}',
      '{"user":null}',
      '{"user":"id"}',
      '{ "user" : { "id" : 7 } }',
      '{"user":\n{"id":7}}',
      '{"user":{"id":7}',
      '{"req":{"method":"POST"}}',
      '{"req":{"method":"P\\u004fST"}}',
      '{"req":{"method":"POST","method":"GET"}}',
      '{"req":{"method":"POSTE"}}',
      '{"req":{"method":"post"}}',
      '{"req":{"method":"\\"POST"}}',
      '{"req":{"status":503}}',
      '{"req":{"status":"503"}}',
      '{"req":{"status":5.03e2}}',
      '{"req":{"status":true}}',
      '{"req":{"status":{"code":503}}}',
      '{"ok":true}',
      '{"ok":"true"}',
      '{"ok":truey}',
      '{"ok":false,"ok":true}',
      '{"__proto__":{"id":7}}',
      '{"constructor":1}',
      '{"é":{"✓":"日本"}}',
      '{"\\u00e9":{"\\u2713":"日本"}}',
      '{"\\u00E9":{"\\u2713\\n":"日本"}}',
      '{"🎉":1}',
      '{"\\ud83c\\udf89":1}',
      '{"\\ud83c":1}',
      '{"\\udf89\\ud83c":1}',
      '{"\\/\\"\\\\\\b\\f\\n\\r\\t":1}',
      '{"":{"":1}}',
      '{}',
      '{ }',
      '[1]',
      '',
    ]
    const entries = texts.map((text, i) =>
      createEntry({ level: 30, msg: `text ${i}`, seq: i + 1, fields: Fields.fromJSON(text) }),
    )
    const whole = batchOf(framesOf(random(3), entries))
    const conditions: FilterOptions['fields'][] = [
      { 'user.id': 7 },
      { 'user.id': 0 },
      { 'user.id': -0 },
      { 'user.id': '7' },
      { 'user.id': '/^7/' },
      { 'user.0.id': 7 },
      { 'user.length': 1 },
      { user: null },
      { 'req.method': 'POST' },
      { 'req.method': '/^post$/i' },
      { 'req.status': 503 },
      { 'req.status': /^50/ },
      { ok: true },
      { ok: 'true' },
      { '__proto__.id': 7 },
      { constructor: 1 },
      { 'é.✓': '日本' },
      { '.': 1 },
      { '🎉': 1 },
      { '/"\\\b\f\n\r\t': 1 },
      { 'é.✓\n': '日本' },
      { 'user.id': Number.NaN },
      { 'user.id': 7, 'req.method': 'POST' },
    ]
    for (const fields of conditions) {
      const options = { fields }
      const byEntries = run(whole.entries(), filter(options))
      const byBatches = run([whole], filter(options))
      t.same(
        seqAndMsg(byBatches, whole.index),
        seqAndMsg(byEntries, whole.index),
        `${String(JSON.stringify(fields, (_, v) => (v instanceof RegExp ? String(v) : Number.isNaN(v) ? 'NaN' : v)))}`,
      )
    }
    t.end()
  },
)
