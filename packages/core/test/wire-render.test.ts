// The byte path against its oracle: frames written by the real writers,
// indexed by EntryIndex and rendered by JsonRenderer, give byte for byte the
// lines formatJson gives for decodeFrame's entries (and JsonLineWriter's
// count of invalid fields); the header columns hold what decodeFrame reads.

import t, { type Test } from 'tap'
import { decodeFrame } from '../src/codec.js'
import { createEntry } from '../src/entry.js'
import { Fields } from '../src/fields.js'
import { JsonLineWriter } from '../src/format/json-bytes.js'
import { FrameEncoder } from '../src/framing.js'
import { nsToMs } from '../src/time.js'
import {
  EntryIndex,
  FRAME_MALFORMED,
  JsonRenderer,
  KIND_BATCH,
  KIND_GOODBYE,
  KIND_HEARTBEAT,
  KIND_HELLO,
  KIND_NONE,
  SPAN_APP,
  SPAN_FIELDS,
  SPAN_HOSTNAME,
  SPAN_MESSAGE,
  SPAN_SOURCE,
} from '../src/wire/index.js'
import { random } from './helpers.js'
import { batchPayload, frameOf, lenField, randomRegion, regionOf, varint } from './wire-frames.js'

const KINDS: Record<string, number> = {
  batch: KIND_BATCH,
  hello: KIND_HELLO,
  heartbeat: KIND_HEARTBEAT,
  goodbye: KIND_GOODBYE,
  unknown: KIND_NONE,
}

/** Everything the renderer gives for the index, chunk after chunk. */
function renderAll(r: JsonRenderer, index: EntryIndex): Buffer {
  const chunks: Buffer[] = []
  let i = 0
  for (let rounds = 0; ; rounds++) {
    i = r.render(index, i)
    chunks.push(Buffer.from(r.bytes()))
    r.reset()
    if (i === index.entries || rounds > 1e6) break
  }
  return Buffer.concat(chunks)
}

t.test('3,000 random entries from every writer render byte for byte as formatJson(decodeFrame)', (t) => {
  const rnd = random(12)
  const index = new EntryIndex({ capacity: 4 })
  // Small: the renderer stops and resumes many times, and grows for the large entries.
  const r = new JsonRenderer({ size: 4096 })
  let entries = 0
  for (let region = 0; region < 10; region++) {
    const { buf, frames, lines } = randomRegion(rnd, 300, entries + 1)
    entries += 300
    t.equal(index.index(buf), buf.length, `region ${region}: indexed to its end`)
    t.equal(index.stop, 'end', `region ${region}: stopped at the end`)
    t.equal(index.entries, lines.length, `region ${region}: one row per entry`)
    t.equal(index.invalidEntries + index.malformedFrames, 0, `region ${region}: nothing invalid`)
    t.same(
      Array.from(index.frameKind.subarray(0, index.frames)),
      frames.map((f) => KINDS[f.type]),
      `region ${region}: each frame's kind is decodeFrame's`,
    )
    t.same(
      Array.from(index.frameStart.subarray(0, index.frames)),
      frames.map((f) => f.start),
      `region ${region}: each frame's position`,
    )
    const got = renderAll(r, index).toString()
    const want = lines.join('')
    if (got !== want) {
      const g = got.split('\n')
      const w = want.split('\n')
      const k = g.findIndex((line, n) => line !== w[n])
      t.fail(`region ${region}, line ${k}:\n${g[k]}\n≠\n${w[k]}`)
    } else t.pass(`region ${region}: ${lines.length} lines, byte for byte`)
  }
  t.end()
})

t.test('the header columns and spans hold what decodeFrame reads', (t) => {
  const rnd = random(5)
  const { buf, frames } = randomRegion(rnd, 500)
  const index = new EntryIndex()
  index.index(buf)
  let i = 0
  let bad = 0
  for (const f of frames) {
    if (f.type !== 'batch') continue
    const frame = decodeFrame(buf, f.start + 12, f.end)
    if (frame.type !== 'batch') continue
    for (const e of frame.entries) {
      const same =
        index.level[i] === e.level &&
        index.pid[i] === e.pid &&
        index.seq[i] === e.seq &&
        index.timeNs(i) === e.time &&
        index.timeMs(i) === nsToMs(e.time) &&
        index.text(i, SPAN_MESSAGE) === e.msg &&
        index.text(i, SPAN_APP) === e.app &&
        index.text(i, SPAN_SOURCE) === e.source &&
        index.text(i, SPAN_HOSTNAME) === e.hostname &&
        (index.text(i, SPAN_FIELDS) || '{}') === e.fields.json
      if (!same && bad++ < 3) t.fail(`entry ${i}: columns differ from ${JSON.stringify(e.msg)}`)
      i++
    }
  }
  t.equal(i, index.entries, 'every entry compared')
  t.equal(bad, 0, 'level, pid, seq, time, message, identity and fields of every entry')
  t.end()
})

t.test('timeMs is floor(ns / 1e6) exactly, at the edges of both halves', (t) => {
  const index = new EntryIndex()
  const rnd = random(9)
  const his = [0, 1, 232, 0x7fffffff, 0xfffffffe, 0xffffffff]
  const los = [0, 1, 999_999, 1_000_000, 0x7fffffff, 0xfffffffe, 0xffffffff]
  for (let k = 0; k < 2000; k++) {
    his.push(Math.floor(rnd() * 2 ** 32))
    los.push(Math.floor(rnd() * 2 ** 32))
  }
  let bad = 0
  for (let k = 0; k < his.length; k++) {
    for (const lo of k < 6 ? los : [los[k] as number]) {
      index.timeHi[0] = his[k] as number
      index.timeLo[0] = lo
      const ns = (BigInt(his[k] as number) << 32n) + BigInt(lo)
      if (index.timeMs(0) !== Number(ns / 1_000_000n) && bad++ < 3) t.fail(`${ns}: ${index.timeMs(0)}`)
    }
  }
  t.equal(bad, 0, 'every time, including 2^64 - 1 ns')
  t.end()
})

/** A hand-made entry frame (LogEntry fields as given), in a region, rendered and compared with the oracle. */
function checkHandMade(t: Test, name: string, entry: Buffer): void {
  const { buf, lines } = regionOf([frameOf(batchPayload([entry]))])
  const index = new EntryIndex()
  index.index(buf)
  const r = new JsonRenderer()
  r.render(index)
  t.equal(r.bytes().toString(), lines.join(''), `${name}: as formatJson(decodeFrame)`)
  for (const line of r.bytes().toString().split('\n').slice(0, -1)) JSON.parse(line)
}

t.test('bytes no writer makes: invalid UTF-8, controls, huge varints, repeats, unknown fields', (t) => {
  const time = Buffer.from([0x09, 1, 2, 3, 4, 5, 6, 7, 8])
  const bad = Buffer.from([
    0x61, 0xff, 0x62, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82,
  ])
  const controls = Buffer.from(Array.from({ length: 0x22 }, (_, c) => c).concat([0x5c, 0x7f, 0x2f]))
  const cases: [string, Buffer][] = [
    ['invalid UTF-8 in the message', Buffer.concat([time, lenField(0x22, bad)])],
    [
      'invalid UTF-8 in app, source and hostname',
      Buffer.concat([lenField(0x2a, bad), lenField(0x32, bad), lenField(0x42, bad)]),
    ],
    [
      'invalid UTF-8 in the fields (an object)',
      lenField(0x52, Buffer.concat([Buffer.from('{"a":"'), bad, Buffer.from('"}')])),
    ],
    [
      'invalid UTF-8 in the fields (not an object)',
      lenField(0x52, Buffer.concat([Buffer.from('{"a":'), bad, Buffer.from('}')])),
    ],
    ['invalid UTF-8 in trace and span ids', Buffer.concat([lenField(0x5a, bad), lenField(0x62, bad)])],
    ['every control byte in the message', lenField(0x22, controls)],
    ['a long message with escapes', lenField(0x22, Buffer.from(`${'x'.repeat(300)}"\\\n${'é'.repeat(100)}`))],
    ['fields with a raw newline', lenField(0x52, Buffer.from('{"a":"x\ny"}'))],
    ['fields that are an array', lenField(0x52, Buffer.from('[1,2]'))],
    ['fields "{ }"', lenField(0x52, Buffer.from('{ }'))],
    ['fields "{}"', lenField(0x52, Buffer.from('{}'))],
    ['severity without level', Buffer.from([0x18, 13])],
    ['level 0 and no severity', Buffer.from([0x10, 0])],
    [
      'a level of 2^64 - 1',
      Buffer.concat([Buffer.from([0x10]), Buffer.from([255, 255, 255, 255, 255, 255, 255, 255, 255, 1])]),
    ],
    [
      'a seq above 2^53 and a pid of 2^32',
      Buffer.concat([Buffer.from([0x48]), varint(2 ** 60), Buffer.from([0x38]), varint(2 ** 32)]),
    ],
    [
      'fields repeated: the last wins',
      Buffer.concat([lenField(0x22, 'one'), lenField(0x22, 'two'), Buffer.from([0x10, 20, 0x10, 50])]),
    ],
    [
      'unknown fields of every wire type, and a tag written as a longer varint',
      Buffer.concat([
        Buffer.from([0x78, 5]), // field 15, varint
        Buffer.from([0x79, 1, 2, 3, 4, 5, 6, 7, 8]), // field 15, fixed64
        lenField(0x7a, 'skipped'), // field 15, len
        Buffer.from([0x7d, 1, 2, 3, 4]), // field 15, fixed32
        Buffer.from([0x80, 0x01, 0]), // field 16, varint
        Buffer.from([0xa2, 0x00, 3, 0x61, 0x62, 0x63]), // 0x22 (message) as a two-byte tag
        Buffer.from([0x0a, 1, 0x41]), // field 1 with the wrong wire type: unknown
      ]),
    ],
    ['an empty entry', Buffer.alloc(0)],
  ]
  for (const [name, entry] of cases) checkHandMade(t, name, entry)
  t.end()
})

t.test('numbers at every width: 10^k - 1 and 10^k for seq, pid and level, times across 10^k ms', (t) => {
  for (let k = 0; k <= 16; k++) {
    for (const v of [10 ** k - 1, 10 ** k, 2 ** 53 - 1]) {
      const ms = BigInt(Math.min(v, 2 ** 44))
      const time = Buffer.alloc(9)
      time[0] = 0x09
      time.writeBigUInt64LE(ms * 1_000_000n + 999_999n, 1)
      const entry = Buffer.concat([
        time,
        Buffer.from([0x48]),
        varint(v),
        Buffer.from([0x38]),
        varint(v),
        Buffer.from([0x10]),
        varint(v),
      ])
      checkHandMade(t, `${v}`, entry)
    }
  }
  t.end()
})

t.test('invalid fields are counted as JsonLineWriter counts them', (t) => {
  const texts = [
    '{"a":1}',
    '[1]',
    '{"a":1} ',
    'nope',
    '{"a":"\u0001"}',
    '{}',
    '{"b":{"c":[true,false,null]}}',
    '{"x":',
  ]
  const encoder = new FrameEncoder()
  const parts = texts.map((json) =>
    Buffer.from(encoder.entry(createEntry({ msg: 'm', fields: Fields.fromJSON(json) }))),
  )
  const { buf } = regionOf(parts)
  const index = new EntryIndex()
  index.index(buf)
  const r = new JsonRenderer()
  r.render(index)
  const w = new JsonLineWriter()
  for (const part of parts) {
    const frame = decodeFrame(part, 12, part.length)
    if (frame.type === 'batch') for (const e of frame.entries) w.json(e)
  }
  t.equal(r.invalidFields, w.invalidFields, `${w.invalidFields} invalid, as JsonLineWriter counts`)
  t.equal(
    r.invalidFields,
    5,
    'an array, text around the object, not JSON, a raw control character, cut short: 5',
  )
  t.equal(r.bytes().toString(), w.take().toString(), 'the same bytes as JsonLineWriter')
  t.end()
})

t.test('a selection renders exactly the selected entries, in its order', (t) => {
  const rnd = random(33)
  const { buf, lines } = randomRegion(rnd, 400)
  const index = new EntryIndex()
  index.index(buf)
  const r = new JsonRenderer({ size: 2048 })
  for (let round = 0; round < 20; round++) {
    const picked: number[] = []
    for (let i = 0; i < index.entries; i++) if (rnd() < 0.3) picked.push(i)
    if (round % 2 === 1) picked.reverse()
    const selection = Int32Array.from(picked)
    const chunks: Buffer[] = []
    let k = 0
    while (k < selection.length) {
      k = r.renderSelection(index, selection, k)
      chunks.push(Buffer.from(r.bytes()))
      r.reset()
    }
    t.equal(
      Buffer.concat(chunks).toString(),
      picked.map((i) => lines[i]).join(''),
      `round ${round}: ${picked.length} selected entries, nothing else`,
    )
  }
  const none = r.renderSelection(index, Int32Array.from([-1, index.entries, index.entries + 5]))
  t.equal(none, 3, 'entry numbers outside the index are passed over')
  t.equal(r.pos, 0, 'and render nothing')
  t.end()
})

t.test('a render stops before a line that does not fit, and grows only for a line alone', (t) => {
  const encoder = new FrameEncoder({ maxFrameSize: 4 * 1024 * 1024 })
  const small = createEntry({ msg: 'small', seq: 1 })
  const large = createEntry({ msg: 'large', seq: 2, fields: { big: 'x'.repeat(100_000) } })
  const { buf, lines } = regionOf([
    Buffer.from(encoder.entry(small)),
    Buffer.from(encoder.entry(large)),
    Buffer.from(encoder.entry(small)),
  ])
  const index = new EntryIndex()
  index.index(buf)
  const r = new JsonRenderer({ size: 1024 })
  t.equal(r.render(index), 1, 'stops at the large entry, after the small one')
  t.equal(r.bytes().toString(), lines[0], 'with the small line')
  r.reset()
  t.equal(r.render(index, 1), 3, 'the large line alone: rendered into a grown buffer, and what fits after it')
  t.equal(r.bytes().toString(), lines[1] + lines[2], 'the whole large line, then the last')
  t.ok(r.out.length > 100_000, 'the buffer grew for it')
  t.end()
})

t.test(
  'an overridden batch body takes back its entries; a body after a broken one still flags the frame',
  (t) => {
    const entry = lenField(0x22, 'first')
    const hello = lenField(0x12, lenField(0x0a, 'app'))
    const { buf } = regionOf([frameOf(Buffer.concat([batchPayload([entry, entry]), hello]))])
    const index = new EntryIndex()
    index.index(buf)
    t.equal(index.frameKind[0], KIND_HELLO, 'the last body wins, as decodeFrame')
    t.equal(index.entries, 0, 'the batch before it has no entries left')
    const broken = Buffer.concat([batchPayload([Buffer.from([0x22, 50])]), batchPayload([entry])])
    index.index(frameOf(broken))
    t.equal(
      index.frameFlags[0],
      FRAME_MALFORMED,
      'a broken entry in an overridden body leaves the frame malformed',
    )
    t.equal(index.entries, 1, 'the last batch body is indexed')
    t.equal(index.invalidEntries, 0, 'the taken-back invalid entry is no longer counted')
    t.end()
  },
)
