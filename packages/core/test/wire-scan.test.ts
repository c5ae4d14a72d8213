// The byte scan of the fields check answers what json-check.ts answers for
// the decoded text, on random and damaged JSON, inside larger buffers whose
// bytes around the span must not count; and its UTF-8 check agrees with the
// decoder Buffer#toString uses.

import t from 'tap'
import { JSON_INVALID, jsonObjectShape } from '../src/format/json-check.js'
import { FIELDS_NOT_UTF8, scanJsonObject, utf8SequenceLength } from '../src/wire/json-scan.js'
import { random, randomJson } from './helpers.js'

const pieces = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ':',
  ',',
  ' ',
  '\t',
  '\n',
  '\\',
  'u',
  '0',
  '-',
  '.',
  'e',
  'true',
  'x',
  'é',
  '\u0001',
]

/** A JSON text from helpers.randomJson, often damaged by a few inserted, removed or replaced pieces. */
function text(rnd: () => number): string {
  let s = JSON.stringify({ a: randomJson(rnd), b: randomJson(rnd) })
  if (rnd() < 0.2) s = JSON.stringify(randomJson(rnd)) ?? ''
  for (let k = rnd() < 0.3 ? 0 : Math.floor(rnd() * 3) + 1; k > 0; k--) {
    const at = Math.floor(rnd() * (s.length + 1))
    const piece = pieces[Math.floor(rnd() * pieces.length)] as string
    const op = rnd()
    s =
      op < 0.4
        ? s.slice(0, at) + piece + s.slice(at)
        : op < 0.7
          ? s.slice(0, at) + s.slice(at + 1)
          : s.slice(0, at) + piece + s.slice(at + 1)
  }
  return s
}

t.test('20,000 random and damaged texts: the same answer as jsonObjectShape', (t) => {
  const rnd = random(21)
  let bad = 0
  const shapes = new Set<number>()
  for (let k = 0; k < 20_000; k++) {
    const s = text(rnd)
    const bytes = Buffer.from(s)
    // Inside a larger buffer, with bytes that would change the answer if they counted.
    const around = Buffer.concat([Buffer.from('{"'), bytes, Buffer.from('"}')])
    const got = scanJsonObject(around, 2, 2 + bytes.length)
    const want = jsonObjectShape(bytes.toString())
    shapes.add(want)
    if (got !== want && bad++ < 3) t.fail(`${JSON.stringify(s)}: ${got}, jsonObjectShape ${want}`)
  }
  t.equal(bad, 0, 'every text')
  t.equal(shapes.size, 3, 'objects, empty objects and invalid texts all came up')
  t.end()
})

t.test('nesting: 1024 levels are read, 1025 are refused, as json-check.ts', (t) => {
  for (const depth of [1023, 1024, 1025]) {
    const s = `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`
    t.equal(scanJsonObject(Buffer.from(s), 0, s.length), jsonObjectShape(s), `${depth} levels`)
  }
  t.end()
})

t.test('invalid UTF-8 inside a string sends the caller to the text; outside one it is invalid', (t) => {
  const inside = Buffer.from('{"a":"x\xffy"}', 'latin1')
  t.equal(
    scanJsonObject(inside, 0, inside.length),
    FIELDS_NOT_UTF8,
    'inside a string: decode and check the text',
  )
  const outside = Buffer.from('{"a":\xff}', 'latin1')
  t.equal(scanJsonObject(outside, 0, outside.length), JSON_INVALID, 'outside a string: not JSON')
  t.end()
})

t.test('utf8SequenceLength accepts exactly the sequences the decoder keeps', (t) => {
  const rnd = random(8)
  let bad = 0
  const leads = [0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xc0, 0xc1, 0xf5, 0xff, 0x80]
  const follows = [0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0x41]
  for (let k = 0; k < 20_000; k++) {
    const bytes = Buffer.from([
      leads[Math.floor(rnd() * leads.length)] as number,
      ...Array.from(
        { length: Math.floor(rnd() * 4) },
        () => follows[Math.floor(rnd() * follows.length)] as number,
      ),
    ])
    const n = utf8SequenceLength(bytes, 0, bytes.length)
    // The decoder keeps a sequence when its first character is not U+FFFD and re-encodes to the same bytes.
    const first = bytes.toString('utf8')
    const cp = first.codePointAt(0) as number
    const kept = cp !== 0xfffd ? Buffer.from(String.fromCodePoint(cp)).length : 0
    if (n !== kept && bad++ < 3) t.fail(`${bytes.toString('hex')}: ${n}, decoder ${kept}`)
  }
  t.equal(bad, 0, 'every sequence')
  t.end()
})
