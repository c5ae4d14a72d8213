import t from 'tap'
import { logkit } from '../generated/logkit.js'
import { EntryFrameWriter } from '../src/entry-writer.js'
import { type DropReasons, NO_DROP_REASONS } from '../src/frame.js'
import { FRAME_FLAG_HASH, frameHash, viewOf } from '../src/frame-check.js'
import { FRAME_HEADER_SIZE, FrameEncoder, writeFrameHeader } from '../src/framing.js'
import { safeStringify } from '../src/safe-json.js'
import { serializeError } from '../src/serialize-error.js'
import { random, randomJson, randomString } from './helpers.js'

/** What JSON.stringify makes of obj's members, with Errors serialized and BigInts as text. */
function expectedMembers(obj: Record<string, unknown>): string {
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(obj)) {
    const v = obj[key]
    copy[key] = v instanceof Error ? serializeError(v) : typeof v === 'bigint' ? v.toString() : v
  }
  const json = safeStringify(copy)
  return json.slice(1, -1)
}

function expectedFields(bindings: string, members: string): string {
  const inner = bindings === '' ? members : members === '' ? bindings : `${bindings},${members}`
  return inner === '' ? '' : `{${inner}}`
}

/** A copy of the frame EntryFrameWriter.entry writes. */
function frameOf(w: EntryFrameWriter, ...args: Parameters<EntryFrameWriter['entry']>): Buffer {
  const start = w.entry(...args)
  return Buffer.from(w.buf.subarray(start, w.pos))
}

interface Call {
  time: number
  level: number
  msg: string
  source: string
  seq: number
  bindings: string
  obj: Record<string, unknown>
  dropped: number
  /** Of `dropped`, too large and unserializable (default none). */
  reasons?: DropReasons
}

/** The reference encoder's frame with the entry writer's header: the frame hash as its check (flag FRAME_FLAG_HASH). */
function withSum(frame: Buffer): Buffer {
  const copy = Buffer.from(frame)
  const hash = frameHash(viewOf(copy), FRAME_HEADER_SIZE, copy.length)
  writeFrameHeader(copy, 0, copy.length - FRAME_HEADER_SIZE, hash, FRAME_FLAG_HASH)
  return copy
}

function both(w: EntryFrameWriter, call: Call): { actual: Buffer; expected: Buffer } {
  const actual = frameOf(
    w,
    call.time,
    call.level,
    call.msg,
    call.source,
    call.seq,
    Buffer.from(call.bindings),
    call.obj,
    '',
    { dropped: call.dropped, ...(call.reasons ?? NO_DROP_REASONS) },
  )
  const expected = withSum(
    new FrameEncoder().entry(
      {
        time: call.time,
        level: call.level,
        msg: call.msg,
        app: w.app,
        source: call.source,
        pid: w.pid,
        hostname: w.hostname,
        seq: call.seq,
        fields: expectedFields(call.bindings, expectedMembers(call.obj)),
      },
      call.dropped,
      call.reasons,
    ),
  )
  return { actual, expected }
}

const awkward: Record<string, unknown> = {
  plain: 'request completed',
  quote: 'say "hi"\\ now',
  control: 'tab\there\nnew\u0001line',
  unicode: 'café ✓ 日本 🎉',
  lone: 'half \ud800 a surrogate',
  'key "quoted"': 1,
  ключ: 'значение',
  zero: 0,
  negZero: -0,
  negative: -42,
  big: 999_999_999_999_999,
  bigger: 1e15,
  huge: 1e21,
  nineDigits: 999_999_999,
  tenDigits: 1_000_000_000,
  millis: 1_795_397_222_327,
  negativeMillis: -1_795_397_222_327,
  largestSafe: Number.MAX_SAFE_INTEGER,
  beyondSafe: 2 ** 53 + 2,
  tiny: 5e-7,
  fraction: 3.25,
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  yes: true,
  no: false,
  nothing: null,
  missing: undefined,
  fn: () => 1,
  sym: Symbol('s'),
  bigint: 12345678901234567890n,
  date: new Date(0),
  nested: { a: [1, 'two', { three: null }], b: {} },
  list: [undefined, () => 1, Number.NaN],
  err: new Error('boom'),
  other: new TypeError('bad type'),
  toJsonUndefined: { toJSON: () => undefined },
  toJsonKey: { toJSON: (key: string) => `key=${key}` },
}

t.test('frames match FrameEncoder.entry with the fields JSON.stringify gives', (t) => {
  const w = new EntryFrameWriter('shop', 4242, 'host-1')
  const cases: Call[] = [
    { time: 1.5, level: 30, msg: '', source: 's', seq: 1, bindings: '', obj: {}, dropped: 0 },
    {
      time: 1_763_000_000_123.456,
      level: 30,
      msg: 'm',
      source: 's',
      seq: 2,
      bindings: '',
      obj: awkward,
      dropped: 0,
    },
    {
      time: 1_763_000_000_123.456,
      level: 50,
      msg: 'with bindings',
      source: 'child',
      seq: 300,
      bindings: '"reqId":"abc","n":1',
      obj: awkward,
      dropped: 7,
      reasons: { droppedTooLarge: 2, droppedUnserializable: 300 },
    },
    {
      time: 2,
      level: 35,
      msg: 'custom level',
      source: 's',
      seq: 2 ** 40,
      bindings: '"b":1',
      obj: {},
      dropped: 0,
    },
    {
      time: 3,
      level: 30,
      msg: 'x'.repeat(300),
      source: 's'.repeat(200),
      seq: 5,
      bindings: '',
      obj: { a: undefined },
      dropped: 1,
    },
  ]
  for (const [i, call] of cases.entries()) {
    const { actual, expected } = both(w, call)
    t.same(actual.toString('hex'), expected.toString('hex'), `case ${i}`)
  }
  t.end()
})

t.test('random entries, fields and bindings: byte for byte the same, and protobufjs reads them', (t) => {
  const rnd = random(7)
  const w = new EntryFrameWriter('app', 1, 'h')
  let mismatches = 0
  for (let i = 0; i < 2000; i++) {
    const obj: Record<string, unknown> = {}
    for (let k = Math.floor(rnd() * 5); k > 0; k--) obj[randomString(rnd, 8) || 'k'] = randomJson(rnd)
    if (rnd() < 0.02) obj['large'] = 'y'.repeat(40_000)
    const call: Call = {
      time: rnd() * 2e12,
      level: [10, 20, 30, 40, 50, 60][Math.floor(rnd() * 6)] as number,
      msg: rnd() < 0.5 ? 'same message' : randomString(rnd, 50),
      source: rnd() < 0.5 ? 'main' : randomString(rnd, 6),
      seq: i + 1,
      bindings: rnd() < 0.3 ? `"bound":${JSON.stringify(randomString(rnd, 5))}` : '',
      obj,
      dropped: rnd() < 0.1 ? Math.floor(rnd() * 1e6) : 0,
    }
    if (call.dropped > 0 && rnd() < 0.5)
      call.reasons = {
        droppedTooLarge: Math.floor(rnd() * call.dropped),
        droppedUnserializable: rnd() < 0.5 ? 0 : Math.floor(rnd() * 1e4),
      }
    const { actual, expected } = both(w, call)
    if (!actual.equals(expected)) mismatches++
    const decoded = logkit.v1.Frame.decode(actual.subarray(FRAME_HEADER_SIZE))
    const entry = decoded.batch?.entries?.[0]
    if (entry?.message !== call.msg || Number(entry.seq) !== call.seq) mismatches++
    const batch = decoded.batch
    if (
      Number(batch?.dropped) !== call.dropped ||
      Number(batch?.droppedTooLarge) !== (call.reasons?.droppedTooLarge ?? 0) ||
      Number(batch?.droppedUnserializable) !== (call.reasons?.droppedUnserializable ?? 0)
    )
      mismatches++
  }
  t.equal(
    mismatches,
    0,
    'every frame identical to the reference encoder, drop counts as protobufjs reads them',
  )
  t.end()
})

t.test(
  'the same level, message and source again, at another place or in a grown buffer: still the same frame',
  (t) => {
    const w = new EntryFrameWriter('app', 1, 'h')
    // Short fields, long ones (the length prefix takes a byte more, so the
    // constant part moves), one that grows the buffer, and back.
    const values = ['a', 'b'.repeat(300), 'c', 'd'.repeat(40_000), 'e', 'f']
    let mismatches = 0
    values.forEach((v, i) => {
      const call: Call = {
        time: 1e12 + i,
        level: 30,
        msg: 'same',
        source: 'main',
        seq: i + 1,
        bindings: '',
        obj: { v },
        dropped: 0,
      }
      const { actual, expected } = both(w, call)
      if (!actual.equals(expected)) mismatches++
    })
    t.equal(mismatches, 0, 'every frame identical to the reference encoder')
    t.end()
  },
)

t.test('a value cycling back to the logged object is [Circular], not a throw', (t) => {
  const w = new EntryFrameWriter('app', 1, 'h')
  const loop: Record<string, unknown> = { n: 1 }
  loop['self'] = { back: loop }
  const frame = frameOf(w, 1, 30, 'm', 's', 1, Buffer.alloc(0), loop, '', 0)
  const entry = logkit.v1.Frame.decode(frame.subarray(FRAME_HEADER_SIZE)).batch?.entries?.[0]
  t.same(JSON.parse(Buffer.from(entry?.fieldsJson ?? []).toString()), { n: 1, self: { back: '[Circular]' } })
  t.end()
})

t.test('an object with toJSON gives its members; JSON text is copied as is', (t) => {
  const w = new EntryFrameWriter('app', 1, 'h')
  const fieldsOf = (frame: Buffer) =>
    Buffer.from(
      logkit.v1.Frame.decode(frame.subarray(FRAME_HEADER_SIZE)).batch?.entries?.[0]?.fieldsJson ?? [],
    ).toString()
  t.equal(
    fieldsOf(frameOf(w, 1, 30, 'm', 's', 1, Buffer.alloc(0), { toJSON: () => ({ a: 1 }) }, '', 0)),
    '{"a":1}',
  )
  t.equal(fieldsOf(frameOf(w, 1, 30, 'm', 's', 2, Buffer.alloc(0), { toJSON: () => 'text' }, '', 0)), '')
  t.equal(
    fieldsOf(frameOf(w, 1, 30, 'm', 's', 3, Buffer.from('"b":2'), undefined, '{"é":"ü"}', 0)),
    '{"b":2,"é":"ü"}',
  )
  t.equal(fieldsOf(frameOf(w, 1, 30, 'm', 's', 4, Buffer.alloc(0), undefined, '{}', 0)), '')
  t.end()
})

t.test('members given as a byte range of a line make the same frame as the same range of its text', (t) => {
  const w = new EntryFrameWriter('app', 1, 'h')
  const line = '{"level":30,"city":"Zürich","party":"\u{1f389}","n":[1,{"m":"é"}],"msg":"grüße"}'
  const text = { from: line.indexOf('"city"'), to: line.indexOf(',"msg"') }
  const bytes = Buffer.from(`xx${line}`)
  const at = { from: bytes.indexOf('"city"'), to: bytes.indexOf(',"msg"') }
  t.not(at.to - at.from, text.to - text.from, 'offsets in bytes differ from offsets in text')
  const fromText = frameOf(
    w,
    7,
    30,
    'grüße',
    's',
    1,
    Buffer.from('"b":2'),
    undefined,
    line,
    0,
    text.from,
    text.to,
  )
  const fromBytes = frameOf(
    w,
    7,
    30,
    'grüße',
    's',
    1,
    Buffer.from('"b":2'),
    undefined,
    bytes,
    0,
    at.from,
    at.to,
  )
  t.same(fromBytes, fromText)
  const entry = logkit.v1.Frame.decode(fromBytes.subarray(FRAME_HEADER_SIZE)).batch?.entries?.[0]
  t.same(JSON.parse(Buffer.from(entry?.fieldsJson ?? []).toString()), {
    b: 2,
    city: 'Zürich',
    party: '\u{1f389}',
    n: [1, { m: 'é' }],
  })
  t.end()
})

t.test('a frame over the limit throws LOGKIT_ERR_FRAME_TOO_LARGE and the next one is whole', (t) => {
  const w = new EntryFrameWriter('app', 1, 'h', { maxFrameSize: 1000 })
  t.throws(() => frameOf(w, 1, 30, 'm', 's', 1, Buffer.alloc(0), { big: 'z'.repeat(2000) }, '', 0), {
    code: 'LOGKIT_ERR_FRAME_TOO_LARGE',
  })
  const frame = frameOf(w, 1, 30, 'm', 's', 2, Buffer.alloc(0), { small: 1 }, '', 0)
  const entry = logkit.v1.Frame.decode(frame.subarray(FRAME_HEADER_SIZE)).batch?.entries?.[0]
  t.equal(Buffer.from(entry?.fieldsJson ?? []).toString(), '{"small":1}')
  t.end()
})
