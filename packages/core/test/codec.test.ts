import Long from 'long'
import t from 'tap'
import { logkit } from '../generated/logkit.js'
import {
  decodeFrame,
  ProtoWriter,
  putVarint,
  varintSize,
  writeBatch,
  writeGoodbye,
  writeHeartbeat,
  writeHello,
} from '../src/codec.js'
import { createEntry, type LogEntry } from '../src/entry.js'
import { Fields } from '../src/fields.js'
import type { BatchFrame, Frame } from '../src/frame.js'
import { levelToSeverity } from '../src/levels.js'
import { plain, random, randomEntry } from './helpers.js'

const pb = logkit.v1

function encode(write: (w: ProtoWriter) => void): Buffer {
  const w = new ProtoWriter(16)
  write(w)
  return Buffer.from(w.bytes())
}

function batchOf(frame: Frame): BatchFrame {
  if (frame.type !== 'batch') throw new Error(`expected a batch, got ${frame.type}`)
  return frame
}

const toLong = (v: bigint | number) => Long.fromString(v.toString(), true)

/** The protobufjs message for an entry, with only the fields our encoder writes (proto3 omits defaults). */
function pbEntry(e: LogEntry): Record<string, unknown> {
  const m: Record<string, unknown> = {}
  if (e.time !== 0n) m['timeUnixNano'] = toLong(e.time)
  if (e.level) m['level'] = e.level
  if (levelToSeverity(e.level)) m['severityNumber'] = levelToSeverity(e.level)
  if (e.msg) m['message'] = e.msg
  if (e.app) m['app'] = e.app
  if (e.source) m['source'] = e.source
  if (e.pid) m['pid'] = e.pid
  if (e.hostname) m['hostname'] = e.hostname
  if (e.seq) m['seq'] = toLong(e.seq)
  if (!e.fields.isEmpty) m['fieldsJson'] = Buffer.from(e.fields.json)
  if (e.traceId) m['traceId'] = e.traceId
  if (e.spanId) m['spanId'] = e.spanId
  return m
}

t.test('random entries round-trip through the codec exactly', (t) => {
  const rnd = random(1)
  const entries = Array.from({ length: 500 }, (_, i) => randomEntry(rnd, i + 1))
  const decoded = batchOf(decodeFrame(encode((w) => writeBatch(w, entries, 7))))
  t.equal(decoded.entries.length, 500, 'every entry comes back')
  t.equal(decoded.dropped, 7, 'the dropped count comes back')
  for (let i = 0; i < entries.length; i++) {
    t.same(plain(decoded.entries[i] as LogEntry), plain(entries[i] as LogEntry), `entry ${i} is identical`)
    t.equal(
      (decoded.entries[i] as LogEntry).fields.json,
      (entries[i] as LogEntry).fields.json,
      `entry ${i} fields text is byte-identical`,
    )
  }
  t.end()
})

t.test('nanosecond times round-trip exactly, up to the largest fixed64', (t) => {
  for (const time of [1n, 1_763_800_000_123_456_789n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
    const e = createEntry({ time, msg: 'x' })
    const back = batchOf(decodeFrame(encode((w) => writeBatch(w, [e])))).entries[0] as LogEntry
    t.equal(back.time, time, `${time} ns survives`)
  }
  t.end()
})

t.test('our bytes are byte-identical to protobufjs, and each decodes the other', (t) => {
  const rnd = random(2)
  for (let i = 0; i < 200; i++) {
    const entries = [randomEntry(rnd, i * 2 + 1), randomEntry(rnd, i * 2 + 2)]
    const dropped = i % 3
    const ours = encode((w) => writeBatch(w, entries, dropped))
    const message: Record<string, unknown> = { entries: entries.map(pbEntry) }
    if (dropped) message['dropped'] = toLong(dropped)
    const theirs = Buffer.from(pb.Frame.encode({ batch: message }).finish())
    t.ok(ours.equals(theirs), `frame ${i}: same bytes as protobufjs`)

    const viaPb = pb.Frame.decode(ours)
    const first = viaPb.batch?.entries?.[0]
    t.equal(first?.message ?? '', (entries[0] as LogEntry).msg, `frame ${i}: protobufjs reads our message`)
    t.equal(
      String(first?.timeUnixNano ?? 0),
      (entries[0] as LogEntry).time.toString(),
      `frame ${i}: protobufjs reads our time`,
    )

    const viaUs = batchOf(decodeFrame(theirs))
    t.same(viaUs.entries.map(plain), entries.map(plain), `frame ${i}: we read protobufjs's bytes`)
  }
  t.end()
})

t.test('hello, heartbeat and goodbye frames match protobufjs both ways', (t) => {
  const hello = {
    app: 'demoapp',
    source: 'indexer',
    pid: 4242,
    hostname: 'box',
    protocol: 1,
    transport: 'shm',
    capabilities: ['level-control', ''],
    startTime: 1_763_800_000_000_000_001n,
  }
  const ours = encode((w) => writeHello(w, hello))
  const theirs = Buffer.from(
    pb.Frame.encode({
      hello: { ...hello, startTimeUnixNano: toLong(hello.startTime), startTime: undefined },
    }).finish(),
  )
  t.ok(ours.equals(theirs), 'hello: same bytes')
  t.same(decodeFrame(theirs), { type: 'hello', ...hello }, 'hello: we read theirs')

  const hb = { now: 5n, next: 10_000_000_000n, lastSeq: 99 }
  const hbOurs = encode((w) => writeHeartbeat(w, hb))
  const hbTheirs = Buffer.from(
    pb.Frame.encode({
      heartbeat: { nowUnixNano: toLong(5n), nextUnixNano: toLong(hb.next), lastSeq: toLong(99) },
    }).finish(),
  )
  t.ok(hbOurs.equals(hbTheirs), 'heartbeat: same bytes')
  t.same(decodeFrame(hbTheirs), { type: 'heartbeat', ...hb }, 'heartbeat: we read theirs')

  const bye = encode((w) => writeGoodbye(w, { lastSeq: 12, dropped: 3 }))
  const byeTheirs = Buffer.from(
    pb.Frame.encode({ goodbye: { lastSeq: toLong(12), dropped: toLong(3) } }).finish(),
  )
  t.ok(bye.equals(byeTheirs), 'goodbye: same bytes')
  t.same(
    decodeFrame(byeTheirs),
    { type: 'goodbye', lastSeq: 12, dropped: 3, droppedTooLarge: 0, droppedUnserializable: 0 },
    'goodbye: we read theirs',
  )
  const reasons = { lastSeq: 12, dropped: 9, droppedTooLarge: 2, droppedUnserializable: 5 }
  const byeReasons = encode((w) => writeGoodbye(w, reasons))
  const byeReasonsTheirs = Buffer.from(
    pb.Frame.encode({
      goodbye: {
        lastSeq: toLong(12),
        dropped: toLong(9),
        droppedTooLarge: toLong(2),
        droppedUnserializable: toLong(5),
      },
    }).finish(),
  )
  t.ok(byeReasons.equals(byeReasonsTheirs), 'goodbye with drop reasons: same bytes')
  t.same(
    decodeFrame(byeReasonsTheirs),
    { type: 'goodbye', ...reasons },
    'goodbye with drop reasons: we read theirs',
  )
  t.end()
})

t.test('unknown fields are skipped, never fatal', (t) => {
  const entry = createEntry({ msg: 'hi', seq: 3, time: 9n, fields: { a: 1 } })
  const inner = pb.LogEntry.encode(pbEntry(entry))
  // Unknown fields of every wire type, as a newer producer might send.
  inner.uint32((99 << 3) | 0).uint64(12345)
  inner.uint32((100 << 3) | 1).fixed64(7)
  inner.uint32((101 << 3) | 2).string('future')
  inner.uint32((102 << 3) | 5).fixed32(1)
  const entryBytes = inner.finish()
  const w = pb.Batch.encode({})
  w.uint32((1 << 3) | 2).bytes(entryBytes)
  const batch = w.finish()
  const outer = Buffer.concat([Buffer.from([0x0a, batch.length]), Buffer.from(batch)])
  const decoded = batchOf(decodeFrame(outer))
  t.same(
    decoded.entries.map(plain),
    [plain(entry)],
    'the entry is read as if the unknown fields were not there',
  )
  t.same(
    decodeFrame(Buffer.from([0x2a, 0x01, 0x00])),
    { type: 'unknown' },
    'a frame body from the future is "unknown"',
  )
  t.end()
})

t.test('a level missing but a severity present maps back to the level', (t) => {
  const bytes = Buffer.from(
    pb.Frame.encode({ batch: { entries: [{ severityNumber: 17, message: 'otel' }] } }).finish(),
  )
  t.equal((batchOf(decodeFrame(bytes)).entries[0] as LogEntry).level, 50, 'severity 17 is error (50)')
  t.end()
})

t.test('structurally broken payloads throw LOGKIT_ERR_FRAME_MALFORMED', (t) => {
  const good = encode((w) =>
    writeBatch(w, [createEntry({ msg: 'hello world', fields: Fields.of({ a: 1 }) })]),
  )
  for (const cut of [1, 3, good.length - 1]) {
    t.throws(
      () => decodeFrame(good.subarray(0, cut)),
      { code: 'LOGKIT_ERR_FRAME_MALFORMED' },
      `cut at ${cut}`,
    )
  }
  t.throws(
    () => decodeFrame(Buffer.from([0x0b])),
    { code: 'LOGKIT_ERR_FRAME_MALFORMED' },
    'wire type 3 (groups) is refused',
  )
  t.throws(
    () => decodeFrame(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
    { code: 'LOGKIT_ERR_FRAME_MALFORMED' },
    'a varint over 10 bytes is refused',
  )
  t.end()
})

t.test('the writer grows its buffer and shifts lengths that need more than two bytes', (t) => {
  const big = createEntry({ msg: 'm'.repeat(70_000), fields: Fields.of({ s: 'é'.repeat(30_000) }) })
  const back = batchOf(decodeFrame(encode((w) => writeBatch(w, [big])))).entries[0] as LogEntry
  t.equal(back.msg.length, 70_000, 'a 70 kB message survives')
  t.equal((back.fields.value as { s: string }).s.length, 30_000, 'multi-byte fields survive')
  t.end()
})

t.test('a producer’s millisecond time is written as the same nanoseconds a BigInt would give', (t) => {
  const rnd = random(11)
  const samples = [
    0,
    1,
    1_763_800_000_123.456,
    1_763_800_000_999.999,
    4_102_444_800_000.5,
    1_700_000_000_000 + 2 ** -10,
  ]
  for (let i = 0; i < 200; i++) samples.push(rnd() * 4.1e12)
  for (const ms of samples) {
    const w = new ProtoWriter(32)
    w.msTimeField(0x09, ms)
    const got = w.bytes().readBigUInt64LE(1)
    const whole = Math.floor(ms)
    const want = BigInt(whole) * 1_000_000n + BigInt(Math.floor((ms - whole) * 1e6))
    t.equal(got, want, `${ms} ms`)
  }
  t.end()
})

t.test('varints at every size boundary match protobufjs, and varintSize their length', (t) => {
  const values = [1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28]
  values.push(
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 35 - 1,
    2 ** 35,
    2 ** 42,
    2 ** 49 + 3,
    2 ** 53 - 1,
  )
  let bad = 0
  for (const v of values) {
    const buf = Buffer.alloc(16)
    const end = putVarint(buf, 0, v)
    const want = Buffer.from(pb.Goodbye.encode({ lastSeq: Long.fromNumber(v, true) }).finish()).subarray(1)
    if (!buf.subarray(0, end).equals(want) || varintSize(v) !== end) {
      bad++
      t.fail(
        `${v}: ${buf.subarray(0, end).toString('hex')} (size ${varintSize(v)}), protobufjs ${want.toString('hex')}`,
      )
    }
  }
  t.equal(bad, 0, `${values.length} values`)
  t.end()
})
