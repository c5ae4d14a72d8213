import t from 'tap'
import { createEntry } from '../src/entry.js'
import { Fields } from '../src/fields.js'
import { formatJson } from '../src/format/json.js'
import { JsonLineWriter } from '../src/format/json-bytes.js'
import { random, randomEntry } from './helpers.js'

t.test('the writer gives the bytes of formatJson(entry) + newline, for 3,000 random entries', (t) => {
  const rnd = random(7)
  // A small buffer, so that lines often need it to grow.
  const w = new JsonLineWriter(256)
  /** What the writer should hold since the last take. */
  let want = Buffer.alloc(0)
  let bad = 0
  /** What was taken, and a copy of it as it was then. */
  const taken: [Buffer, Buffer][] = []
  let moves = 0
  for (let i = 0; i < 3000; i++) {
    const buf = w.buf
    const entry = randomEntry(rnd, i)
    const before = w.pending
    w.json(entry)
    const line = Buffer.from(`${formatJson(entry)}\n`)
    const written = w.buf.subarray(w.pos - (w.pending - before), w.pos)
    if (!written.equals(line) && bad++ < 3) t.fail(`entry ${i}: ${written.toString()} ≠ ${line.toString()}`)
    want = Buffer.concat([want, line])
    if (w.buf !== buf && taken.length > 0) moves++
    if (i % 97 === 96) {
      // Hand over part of what is written, as the file sink does at a rotation.
      const half = Math.floor(w.pending / 2)
      const out = w.take(w.base + half)
      if (!out.equals(want.subarray(0, half))) bad++
      taken.push([out, Buffer.from(out)])
      want = want.subarray(half)
      if (!w.buf.subarray(w.base, w.pos).equals(want)) bad++
    }
  }
  t.ok(moves > 0, `the pending bytes moved to a new buffer after a take (${moves} times)`)
  t.equal(bad, 0, 'every line byte for byte, and every take exactly its bytes')
  t.ok(
    taken.every(([out, copy]) => out.equals(copy)),
    'nothing written later changed what was taken before',
  )
  w.discard()
  t.equal(w.pending, 0, 'discard forgets what is pending')
  t.end()
})

t.test('awkward values: escapes, non-ASCII, empty parts, numbers that are not small integers', (t) => {
  const w = new JsonLineWriter(64)
  const entries = [
    createEntry({
      msg: 'quote " backslash \\ newline \n tab \t nul \u0000 é ✓ 😀',
      hostname: 'h\u0001',
      app: 'ä',
      source: 'src',
    }),
    createEntry({ msg: '', app: '', source: '', hostname: '', seq: 0, fields: {} }),
    createEntry({
      msg: 'm',
      level: 35.5,
      pid: -12,
      seq: 2 ** 53 + 2,
      fields: { a: 'é✓😀', b: [1, { c: null }] },
    }),
    createEntry({
      msg: 'lone \ud800 surrogate',
      fields: Fields.fromJSON('{"x":"\\ud800"}'),
      traceId: 'a"b',
      spanId: 's',
    }),
    createEntry({ msg: 'not an object', fields: Fields.fromJSON('[1,2]') }),
    createEntry({ msg: 'negative zero', level: -0, pid: 0 }),
    createEntry({ msg: 'nine digits and more', level: 0, pid: 1e9, seq: 1e9 + 5, time: 1n }),
    createEntry({ msg: 'largest safe', pid: 999_999_999, seq: Number.MAX_SAFE_INTEGER, time: 10n ** 18n }),
    createEntry({ msg: 'negative large', level: -1e12 - 7, seq: 1_000_000_000_000_001 }),
  ]
  for (const entry of entries) {
    const start = w.pos
    w.json(entry)
    t.same(w.buf.subarray(start, w.pos).toString(), `${formatJson(entry)}\n`, JSON.stringify(entry.msg))
  }
  const start = w.pos
  w.line('pre-rendered ✓ line')
  t.same(
    w.buf.subarray(start, w.pos).toString(),
    'pre-rendered ✓ line\n',
    'a rendered line is written as UTF-8',
  )
  t.end()
})
