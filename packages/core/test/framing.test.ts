import * as zlib from 'node:zlib'
import t from 'tap'
import { crc32 } from '../src/crc32.js'
import type { LogEntry } from '../src/entry.js'
import type { Frame } from '../src/frame.js'
import { FRAME_HEADER_SIZE, FrameDecoder, FrameEncoder } from '../src/framing.js'
import { plain, random, randomEntry } from './helpers.js'

function collect(maxFrameSize?: number) {
  const frames: Frame[] = []
  const decoder = new FrameDecoder({
    ...(maxFrameSize ? { maxFrameSize } : {}),
    onFrame: (f) => frames.push(f),
  })
  const entries = () => frames.flatMap((f) => (f.type === 'batch' ? f.entries : []))
  return { decoder, frames, entries }
}

function garbage(rnd: () => number): Buffer {
  const n = 1 + Math.floor(rnd() * 40)
  const bytes = Buffer.alloc(n)
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(rnd() * 256)
  // Stray magic and fake headers are the hard kind of garbage.
  if (rnd() < 0.3) bytes.write('LK', Math.floor(rnd() * (n - 1)), 'latin1')
  if (rnd() < 0.2) return Buffer.concat([Buffer.from([0x4c, 0x4b, 1, 0, 20, 0, 0, 0, 1, 2, 3, 4]), bytes])
  return bytes
}

t.test(
  '10,000 frames split at random boundaries with garbage spliced in: every valid frame recovered, in order',
  (t) => {
    const rnd = random(42)
    const encoder = new FrameEncoder()
    const sent: LogEntry[] = []
    const parts: Buffer[] = []
    let garbageBytes = 0
    for (let i = 0; i < 10_000; i++) {
      const entry = randomEntry(rnd, i + 1)
      sent.push(entry)
      parts.push(Buffer.from(encoder.entry(entry)))
      if (rnd() < 0.1) {
        const g = garbage(rnd)
        garbageBytes += g.length
        parts.push(g)
      }
    }
    const stream = Buffer.concat(parts)
    const { decoder, entries } = collect()
    for (let at = 0; at < stream.length; ) {
      const size = 1 + Math.floor(rnd() * 3000)
      decoder.push(stream.subarray(at, at + size))
      at += size
    }
    decoder.end()
    const got = entries()
    t.equal(got.length, 10_000, 'all 10,000 entries recovered')
    t.same(
      got.map((e) => e.seq),
      sent.map((e) => e.seq),
      'in the order they were sent',
    )
    t.same(plain(got[9_999] as LogEntry), plain(sent[9_999] as LogEntry), 'the last entry intact')
    t.ok(
      got.every((e, i) => e.msg === (sent[i] as LogEntry).msg),
      'every message intact',
    )
    t.equal(decoder.stats.frames, 10_000, 'stats count 10,000 frames')
    t.equal(
      decoder.stats.skippedBytes,
      garbageBytes,
      'every garbage byte is counted as skipped, and nothing else',
    )
    t.equal(decoder.stats.truncatedBytes, 0, 'nothing left over')
    t.end()
  },
)

t.test(
  'a frame announcing more than the limit is refused without allocating it, and the stream goes on',
  (t) => {
    const encoder = new FrameEncoder()
    const { decoder, entries } = collect(1024)
    const huge = Buffer.from([0x4c, 0x4b, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0])
    decoder.push(huge)
    t.equal(decoder.pendingBytes, 0, 'nothing is held for the 2 GiB frame')
    decoder.push(encoder.entry(randomEntry(random(3), 1)))
    t.equal(decoder.stats.oversized, 1, 'one oversized header counted')
    t.equal(entries().length, 1, 'the next frame is delivered')
    t.end()
  },
)

t.test('a payload whose CRC does not match is counted as corrupt and skipped', (t) => {
  const encoder = new FrameEncoder()
  const bad = Buffer.from(encoder.entry(randomEntry(random(4), 1)))
  bad[FRAME_HEADER_SIZE + 3] = (bad[FRAME_HEADER_SIZE + 3] as number) ^ 0xff
  const good = Buffer.from(encoder.entry(randomEntry(random(5), 2)))
  const { decoder, entries } = collect()
  decoder.push(Buffer.concat([bad, good]))
  t.equal(decoder.stats.corrupt, 1, 'one corrupt frame')
  t.same(
    entries().map((e) => e.seq),
    [2],
    'only the good frame is delivered',
  )
  t.end()
})

t.test('a frame with a good CRC but a broken payload is counted as malformed', (t) => {
  const { crc32 } = zlib
  const payload = Buffer.from([0x0a, 0x05, 0x0a, 0x09])
  const header = Buffer.from([0x4c, 0x4b, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
  header.writeUInt32LE(payload.length, 4)
  header.writeUInt32LE(crc32(payload), 8)
  const { decoder, frames } = collect()
  decoder.push(Buffer.concat([header, payload]))
  t.equal(decoder.stats.malformed, 1, 'counted as malformed')
  t.equal(frames.length, 0, 'nothing delivered')
  t.end()
})

t.test('a frame cut short at the end is counted as truncated bytes', (t) => {
  const frame = Buffer.from(new FrameEncoder().entry(randomEntry(random(6), 1)))
  const { decoder, frames } = collect()
  decoder.push(frame.subarray(0, 20))
  decoder.end()
  t.equal(frames.length, 0, 'no frame')
  t.equal(decoder.stats.truncatedBytes, 20, 'the 20 bytes are counted')
  t.end()
})

t.test('the encoder refuses a frame over its limit with LOGKIT_ERR_FRAME_TOO_LARGE', (t) => {
  const encoder = new FrameEncoder({ maxFrameSize: 100 })
  t.throws(() => encoder.entry({ ...randomEntry(random(7), 1), msg: 'x'.repeat(200) }), {
    code: 'LOGKIT_ERR_FRAME_TOO_LARGE',
  })
  t.end()
})

t.test('hello, heartbeat and goodbye frames pass through the framing', (t) => {
  const encoder = new FrameEncoder()
  const { decoder, frames } = collect()
  decoder.push(
    encoder.hello({
      app: 'a',
      source: 's',
      pid: 1,
      hostname: 'h',
      protocol: 1,
      transport: 'memory',
      capabilities: [],
      startTime: 1n,
    }),
  )
  decoder.push(encoder.heartbeat({ now: 2n, next: 3n, lastSeq: 4 }))
  decoder.push(encoder.goodbye({ lastSeq: 4, dropped: 0 }))
  decoder.push(encoder.batch([randomEntry(random(8), 5)], 2))
  t.same(
    frames.map((f) => f.type),
    ['hello', 'heartbeat', 'goodbye', 'batch'],
    'four frames of four kinds',
  )
  t.end()
})

t.test('the table CRC-32 equals zlib’s for every length and offset', (t) => {
  const rnd = random(9)
  const buf = Buffer.alloc(2048)
  for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256)
  let same = 0
  for (let len = 0; len <= 1100; len += 7) {
    const start = Math.floor(rnd() * 100)
    if (crc32(buf, start, start + len) === zlib.crc32(buf.subarray(start, start + len))) same++
  }
  t.equal(same, 158, 'all 158 ranges agree, on both sides of the native threshold')
  t.end()
})

t.test('at the end, frames held behind a false header announcing a long payload are still recovered', (t) => {
  const encoder = new FrameEncoder()
  const { decoder, entries } = collect()
  const falseHeader = Buffer.from([0x4c, 0x4b, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]) // 64 KiB announced
  const good = [1, 2, 3].map((seq) => Buffer.from(encoder.entry(randomEntry(random(20 + seq), seq))))
  decoder.push(Buffer.concat([falseHeader, ...good]))
  t.equal(entries().length, 0, 'while more bytes may come, the decoder waits for the announced payload')
  decoder.end()
  t.same(
    entries().map((e) => e.seq),
    [1, 2, 3],
    'at the end the three good frames are delivered',
  )
  t.equal(decoder.stats.skippedBytes, 12, 'the false header is counted as skipped')
  t.equal(decoder.stats.truncatedBytes, 0, 'nothing is called truncated')
  t.end()
})
