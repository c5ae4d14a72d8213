import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { logkit } from '../generated/logkit.js'
import { decodeFrame } from '../src/codec.js'
import { createEntry } from '../src/entry.js'
import { Fields } from '../src/fields.js'
import { formatJson, INVALID_FIELDS_KEY } from '../src/format/json.js'
import { JsonLineWriter } from '../src/format/json-bytes.js'
import { random, randomEntry, randomJson } from './helpers.js'

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

/** Fields texts a buggy or hostile producer could put in a frame, and whether they may be spliced. */
const HOSTILE_FIELDS: readonly [string, boolean][] = [
  ['{"a":1}\n{"level":60,"msg":"forged"}', false],
  ['{"a":"x\ny"}', false],
  ['{"a":"x\ry"}', false],
  ['{"a":1,\n"b":2}', false],
  ['{"a":1,\r"b":2}', false],
  ['{"a":"tab\tinside"}', false],
  ['{"a":"nul\u0000"}', false],
  ['{"a":"bell\u0007 esc\u001b"}', false],
  ['{"a":1},"level":60,"msg":"forged","b":{}', false],
  ['{"a":1}}', false],
  ['{"a":}', false],
  ['{"a":1,}', false],
  ['{"a" 1}', false],
  ['{a:1}', false],
  ['{"a":01}', false],
  ['{"a":1.}', false],
  ['{"a":-}', false],
  ['{"a":1e}', false],
  ['{"a":"\\x"}', false],
  ['{"a":"\\u12g4"}', false],
  ['{"a":tru}', false],
  ['{"a":[1,2}', false],
  ['{"a":{"b":1]}', false],
  ['{"a":"unterminated}', false],
  [' {"a":1}', false],
  ['[1,2]', false],
  ['"text"', false],
  ['{"a":1} ', false],
  [`${'{"a":'.repeat(1100)}1${'}'.repeat(1100)}`, false],
  // Well-formed, spliced as they are:
  ['{"a":1}', true],
  ['{ "a" : 1 ,\t"b":[ 1 , 2 ] }', true],
  [
    '{"a":"escaped \\n \\r \\u0000 \\" \\\\ \\/ \\b \\f \\t","é":"✓😀","d":-0.5e+10,"n":null,"t":true,"f":false}',
    true,
  ],
  ['{"a":{"b":[[],{}]},"c":0,"d":1E-3}', true],
  ['{ }', true],
]

t.test(
  'a frame whose fields would break the line: exactly one valid JSON line per entry, the bad ones marked and counted',
  (t) => {
    // Frames as a producer other than logkit's writer could build them: straight from the schema.
    const entries = HOSTILE_FIELDS.flatMap(([fields], i) => [
      {
        timeUnixNano: 1_700_000_000_000_000_000 + i,
        level: 30,
        message: `hostile ${i}`,
        pid: 7,
        seq: 2 * i + 1,
        fieldsJson: Buffer.from(fields),
      },
      {
        timeUnixNano: 1_700_000_000_000_000_000 + i,
        level: 30,
        message: `next ${i}`,
        pid: 7,
        seq: 2 * i + 2,
        fieldsJson: Buffer.from('{"ok":true}'),
      },
    ])
    const bytes = Buffer.from(logkit.v1.Frame.encode({ batch: { entries } }).finish())
    const frame = decodeFrame(bytes)
    if (frame.type !== 'batch') throw new Error(`expected a batch, got ${frame.type}`)
    t.equal(frame.entries.length, entries.length, 'every entry decoded')

    const w = new JsonLineWriter(128)
    const fromStrings: string[] = []
    for (const entry of frame.entries) {
      w.json(entry)
      fromStrings.push(formatJson(entry))
    }
    const out = w.take().toString()
    t.equal(out, `${fromStrings.join('\n')}\n`, 'the byte writer writes what formatJson does')
    const lines = out.split('\n')
    t.equal(lines.pop(), '', 'the output ends with a newline')
    t.equal(lines.length, frame.entries.length, 'one line per entry, no more')
    const bad: string[] = []
    for (const [i, line] of lines.entries()) {
      let parsed: Record<string, unknown> | undefined
      try {
        parsed = JSON.parse(line)
      } catch {}
      const pair = Math.floor(i / 2)
      const spec = HOSTILE_FIELDS[pair]
      if (spec === undefined) {
        bad.push(`line ${i} belongs to no entry: ${line}`)
        continue
      }
      const [fields, splicable] = spec
      if (parsed === undefined) bad.push(`line ${i} is not JSON: ${line}`)
      else if (parsed['seq'] !== i + 1) bad.push(`line ${i} has seq ${String(parsed['seq'])}, not ${i + 1}`)
      else if (parsed['level'] !== 30) bad.push(`line ${i} has level ${String(parsed['level'])}`)
      else if (i % 2 === 1 && parsed['ok'] !== true)
        bad.push(`line ${i}: the entry after a hostile one lost its fields`)
      else if (i % 2 === 0 && !splicable && parsed[INVALID_FIELDS_KEY] !== fields)
        bad.push(
          `line ${i}: ${JSON.stringify(fields)} is not kept as the string ${INVALID_FIELDS_KEY}: ${line}`,
        )
      else if (
        i % 2 === 0 &&
        splicable &&
        !isDeepStrictEqual(pick(parsed, JSON.parse(fields)), JSON.parse(fields))
      )
        bad.push(`line ${i}: the well-formed fields ${fields} were not spliced as they are: ${line}`)
    }
    t.same(
      bad,
      [],
      'every line is valid JSON, in order, with its own level and seq, fields spliced or marked',
    )
    const marked = HOSTILE_FIELDS.filter(([, ok]) => !ok).length
    t.equal(w.invalidFields, marked, `the writer counted the ${marked} entries whose fields it marked`)
    t.end()
  },
)

t.test('other values JSON cannot hold as numbers keep the line valid', (t) => {
  const w = new JsonLineWriter()
  const odd = [
    createEntry({ msg: 'nan', level: Number.NaN, pid: Number.POSITIVE_INFINITY, seq: Number.NaN }),
    createEntry({ msg: 'string level', level: '30,\n{"forged":1}' as unknown as number }),
    createEntry({ msg: 'function level', level: Object as unknown as number }),
  ]
  for (const entry of odd) {
    w.json(entry)
    const line = formatJson(entry)
    t.equal(w.take().toString(), `${line}\n`, `${entry.msg}: the byte writer writes what formatJson does`)
    t.doesNotThrow(() => JSON.parse(line), `${entry.msg}: one valid JSON line: ${line}`)
  }
  t.end()
})

function pick(from: Record<string, unknown>, like: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(like).map((k) => [k, from[k]]))
}

t.test('the fields scan agrees with JSON.parse on 20,000 valid and mutated texts', (t) => {
  const rnd = random(11)
  /** What the scan should say: one JSON object, braces at both ends, no raw control character. */
  const expected = (text: string): boolean => {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return false
    }
    return (
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      text.startsWith('{') &&
      text.endsWith('}') &&
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
      !/[\u0000-\u001f]/.test(text.replace(/\t/g, ' ').replace(/[ ]/g, ''))
    )
  }
  const spaced = (text: string) => text.replace(/([,:[\]{}])/g, (m) => (rnd() < 0.2 ? ` ${m}\t` : m))
  const pieces = [
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '"',
    '\\',
    '\n',
    '\t',
    '1',
    '-',
    'e',
    '.',
    'n',
    'true',
    'x',
    '\u0001',
  ]
  let disagree = 0
  let valid = 0
  for (let i = 0; i < 20_000; i++) {
    const obj: Record<string, unknown> = {}
    for (let k = Math.floor(rnd() * 4); k > 0; k--) obj[`k${k}`] = randomJson(rnd)
    let text = JSON.stringify(obj)
    if (i % 3 === 1) text = spaced(text)
    if (i % 3 === 2) {
      // Mutate: insert, delete or replace one character.
      const at = Math.floor(rnd() * text.length)
      const piece = pieces[Math.floor(rnd() * pieces.length)] as string
      const op = Math.floor(rnd() * 3)
      text =
        op === 0
          ? text.slice(0, at) + piece + text.slice(at)
          : op === 1
            ? text.slice(0, at) + text.slice(at + 1)
            : text.slice(0, at) + piece + text.slice(at + 1)
    }
    const want = expected(text)
    const got = Fields.fromJSON(text).wellFormed
    if (got) valid++
    if (got !== want && disagree++ < 5)
      t.fail(`${JSON.stringify(text)}: scan says ${got}, JSON.parse ${want}`)
  }
  t.equal(disagree, 0, 'the scan and JSON.parse agree on every text')
  t.ok(valid > 10_000 && valid < 20_000, `both answers were given (${valid} well-formed of 20,000)`)
  t.end()
})

t.test('rewind() starts the next lines at the buffer’s start, only when nothing is pending', async (t) => {
  const w = new JsonLineWriter(1024)
  w.line('{"a":1}')
  const first = w.take()
  t.equal(first.byteOffset - w.buf.byteOffset, 0, 'the first line is at the start')
  w.line('{"b":2}')
  w.rewind()
  t.equal(w.pending, 8, 'a pending line stays where it is')
  const second = w.take()
  t.equal(second.toString(), '{"b":2}\n')
  t.equal(second.byteOffset - w.buf.byteOffset, 8, 'after the first')
  w.rewind()
  w.line('{"c":3}')
  const third = w.take()
  t.equal(third.byteOffset - w.buf.byteOffset, 0, 'after a rewind, at the start again')
  t.equal(first.toString(), '{"c":3}\n', 'over the bytes taken first: the caller must be done with them')
})
