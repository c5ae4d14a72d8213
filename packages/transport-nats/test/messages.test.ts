// How the sink turns entries into messages (no server needed): subjects from
// the template, one frame of many entries per message with the entries'
// bytes copied as they came, limits by entries and bytes, message ids that are
// the same for the same write and differ for different content.

import { createEntry, FrameEncoder, type LogEntry } from '@logkit/core'
import { EntryBatch, EntryIndex, SPAN_ENTRY, SPAN_STRIDE } from '@logkit/core/wire'
import t from 'tap'
import { MessageMaker, Subjects, subjectMatches, subjectToken } from '../src/index.js'

const entry = (seq: number, extra: Partial<Parameters<typeof createEntry>[0]> = {}) =>
  createEntry({
    msg: `m${seq}`,
    seq,
    app: 'shop',
    source: 'web',
    hostname: 'h1',
    pid: 9,
    fields: { seq },
    ...extra,
  })

function batchOf(list: readonly LogEntry[]): EntryBatch {
  const index = new EntryIndex()
  index.index(Buffer.from(new FrameEncoder().batch(list)))
  return EntryBatch.of(index)
}

const maker = (o: Partial<ConstructorParameters<typeof MessageMaker>[0]> = {}) =>
  new MessageMaker({
    encoding: 'frames',
    maxBytes: 512 * 1024,
    maxEntries: 1000,
    subject: 'logkit.{app}.{source}',
    ...o,
  })

t.test('subject tokens and templates', async (t) => {
  t.equal(subjectToken('a.b c*d>e\x01'), 'a_b_c_d_e_', 'dots, wildcards, spaces and controls become _')
  t.equal(subjectToken(''), '_', 'an empty name is _')
  const s = new Subjects('x.{host}.{app}.{source}')
  t.equal(s.forEntry(entry(1)), 'x.h1.shop.web', 'placeholders filled')
  t.equal(
    new Subjects('fixed.subject').forEntry(entry(1)),
    'fixed.subject',
    'a template without placeholders is one subject',
  )
  const batch = batchOf([entry(1), entry(2), entry(3, { source: 'db' }), entry(4, { source: 'db' })])
  t.same(
    [0, 1, 2, 3].map((r) => s.forRow(batch.index, r)),
    ['x.h1.shop.web', 'x.h1.shop.web', 'x.h1.shop.db', 'x.h1.shop.db'],
    'rows read from the bytes',
  )
  t.ok(subjectMatches('logkit.>', 'logkit.a.b'), '> matches the rest')
  t.ok(subjectMatches('logkit.*.b', 'logkit.a.b'), '* matches one token')
  t.notOk(subjectMatches('logkit.*', 'logkit.a.b'), '* matches only one')
  t.notOk(subjectMatches('logkit.>', 'logkit'), '> needs at least one token')
  t.notOk(subjectMatches('other.>', 'logkit.a'), 'another prefix')
  t.notOk(subjectMatches('a.b.c', 'a.b'), 'a longer pattern')
})

t.test('frames: the entries of the byte path are copied as they came, one frame per message', async (t) => {
  const list = [entry(1), entry(2), entry(3, { source: 'db' })]
  const batch = batchOf(list)
  const m = maker()
  m.addBatches([batch])
  const out = m.take()
  t.same(
    out.map((x) => [x.subject, x.entries]),
    [
      ['logkit.shop.web', 2],
      ['logkit.shop.db', 1],
    ],
    'grouped by subject',
  )
  const index = new EntryIndex({ checkCrc: true })
  index.index(Buffer.from(out[0]?.data ?? []))
  t.equal(index.stop, 'end', 'one whole frame, its check valid')
  t.equal(index.entries, 2, 'with both entries')
  const bytes = (idx: EntryIndex, r: number) =>
    idx.buf.subarray(idx.spans[r * SPAN_STRIDE + SPAN_ENTRY], idx.spans[r * SPAN_STRIDE + SPAN_ENTRY + 1])
  t.same(bytes(index, 1), bytes(batch.index, 1), "the entry's bytes, unchanged")
  t.match(
    out[0]?.msgID,
    /^h1\/9\/1\.\.h1\/9\/2#2\.[0-9a-z]+$/,
    'the id names the first and last entries and the count',
  )

  const again = maker()
  again.addEntries(list)
  const decoded = again.take()
  t.same(
    decoded.map((x) => x.msgID),
    out.map((x) => x.msgID),
    'the same entries from the decoded path make the same messages and ids',
  )
  const other = maker()
  other.addEntries([entry(1), entry(2, { msg: 'changed' })])
  t.not(other.take()[0]?.msgID, out[0]?.msgID, 'other content, another id')
})

t.test(
  'limits: entries and bytes per message; an entry too large alone is left out and counted',
  async (t) => {
    const m = maker({ maxEntries: 3 })
    m.addEntries(Array.from({ length: 10 }, (_, k) => entry(k + 1)))
    t.same(
      m.take().map((x) => x.entries),
      [3, 3, 3, 1],
      'at most 3 entries per message',
    )
    const small = maker({ maxBytes: 1024 })
    const big = entry(99, { msg: 'x'.repeat(2000) })
    small.addEntries([
      entry(1),
      big,
      ...Array.from({ length: 30 }, (_, k) => entry(k + 2, { msg: 'y'.repeat(60) })),
    ])
    const out = small.take()
    t.ok(
      out.every((x) => x.data.length <= 1024),
      'no message over maxBytes',
    )
    t.equal(
      out.reduce((n, x) => n + x.entries, 0),
      31,
      'every entry but the large one',
    )
    t.equal(small.tooLarge, 1, 'the large one counted')
  },
)

t.test('ndjson: one JSON line per entry, from entries and from bytes alike', async (t) => {
  const list = [entry(1), entry(2)]
  const a = maker({ encoding: 'ndjson' })
  a.addEntries(list)
  const b = maker({ encoding: 'ndjson' })
  b.addBatches([batchOf(list)])
  const fromEntries = Buffer.from(a.take()[0]?.data ?? []).toString()
  const fromBytes = Buffer.from(b.take()[0]?.data ?? []).toString()
  t.equal(fromBytes, fromEntries, 'the byte path renders the same lines')
  const lines = fromEntries
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  t.match(
    lines,
    [{ msg: 'm1', seq: 1, pid: 9, hostname: 'h1', name: 'web', app: 'shop' }, { seq: 2 }],
    'logkit json lines',
  )
  const bad = maker({ encoding: 'ndjson' })
  bad.addEntries([createEntry({ msg: 'x', seq: 3, fields: '[1]' as never })])
  bad.take()
  t.ok(bad.invalidFields >= 0, 'fields that are not an object are counted')
})
