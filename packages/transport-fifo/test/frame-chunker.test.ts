// The pipe reader's chunker against core's FrameDecoder as the oracle: the
// same byte streams (good frames of every kind, garbage, stray and false
// headers, frames failing their CRC, frames decodeFrame refuses, headers over
// the limit, a frame cut short at the end), cut into reads at random, give the
// same frames in the same order and the same counts of what was skipped.

import {
  crc32,
  createEntry,
  decodeFrame,
  FRAME_HEADER_SIZE,
  type Frame,
  FrameDecoder,
  FrameEncoder,
  writeFrameHeader,
} from '@logkit/core'
import { seededRandom } from '@logkit/core/testing'
import { FRAME_MALFORMED } from '@logkit/core/wire'
import t from 'tap'
import { ChunkPool, JOIN_BUFFER_BYTES, type PipeChunk } from '../src/chunk-pool.js'
import { FrameChunker } from '../src/frame-chunker.js'

const MAX_FRAME = 4096

/** A seeded generator: the same streams on every run. */
const random = seededRandom

const encoder = new FrameEncoder({ maxFrameSize: MAX_FRAME })
const copy = (b: Buffer) => Buffer.from(b)

/** A frame around `payload` with a good header and CRC. */
function framed(payload: Buffer, version = 1): Buffer {
  const out = Buffer.alloc(FRAME_HEADER_SIZE + payload.length)
  payload.copy(out, FRAME_HEADER_SIZE)
  writeFrameHeader(out, 0, payload.length, crc32(out, FRAME_HEADER_SIZE))
  out[2] = version
  return out
}

/** One piece of a stream, good or bad, chosen by `rand`. */
function piece(rand: () => number, seq: number): Buffer {
  const entry = (s: number) => ({
    ...createEntry({
      msg: `entry ${s} ${'é'.repeat(Math.floor(rand() * 40))}`,
      seq: s,
      app: 'a',
      source: 's',
    }),
    fields: `{"n":${s}}`,
  })
  const kind = Math.floor(rand() * 13)
  switch (kind) {
    case 0:
    case 1:
    case 2:
      return copy(encoder.entry(entry(seq), kind === 2 ? 3 : 0))
    case 3:
      return copy(encoder.batch([entry(seq), entry(seq + 1), entry(seq + 2)]))
    case 4:
      return copy(
        encoder.hello({
          app: 'a',
          source: 's',
          pid: 42,
          hostname: 'h',
          protocol: 1,
          transport: 'fifo',
          capabilities: [],
          startTime: BigInt(seq),
        }),
      )
    case 5:
      return copy(
        encoder.heartbeat({
          now: BigInt(seq) * 1_000_000n,
          next: BigInt(seq + 1) * 1_000_000n,
          lastSeq: seq,
        }),
      )
    case 6:
      return copy(encoder.goodbye({ lastSeq: seq, dropped: 0 }))
    case 7: {
      // Garbage, now and then with an 'L' or a stray "LK" in it.
      const n = 1 + Math.floor(rand() * 300)
      const out = Buffer.alloc(n)
      for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256)
      if (n > 3 && rand() < 0.5) out.write('LK', Math.floor(rand() * (n - 2)), 'latin1')
      return out
    }
    case 8: {
      // A good frame whose payload was damaged: its CRC fails.
      const out = copy(encoder.entry(entry(seq)))
      const at = FRAME_HEADER_SIZE + Math.floor(rand() * (out.length - FRAME_HEADER_SIZE))
      out[at] = (out[at] as number) ^ 0x5a
      return out
    }
    case 9:
      // A good CRC around a payload decodeFrame refuses: a batch body that runs past the end.
      return framed(Buffer.from([0x0a, 0x7f, 0x0a, 0x02, 0x08]))
    case 10: {
      // A header over the limit, and one of another version.
      const over = Buffer.alloc(FRAME_HEADER_SIZE)
      writeFrameHeader(over, 0, MAX_FRAME + 1 + Math.floor(rand() * 100_000), 0)
      return Buffer.concat([over, framed(Buffer.from([0x2a, 0x00]), 2)])
    }
    case 11: {
      // A false header announcing a frame of plausible length whose bytes are whatever follows.
      const out = Buffer.alloc(FRAME_HEADER_SIZE)
      writeFrameHeader(out, 0, Math.floor(rand() * 600), 0x12345678)
      return out
    }
    default:
      return copy(encoder.entry(entry(seq), 0))
  }
}

function stream(seed: number): Buffer {
  const rand = random(seed)
  const parts: Buffer[] = []
  const n = 1 + Math.floor(rand() * 60)
  for (let i = 0; i < n; i++) parts.push(piece(rand, i * 3 + 1))
  // Now and then a stream ends in the middle of a frame.
  if (rand() < 0.4) {
    const last = copy(encoder.entry({ ...createEntry({ msg: 'cut', seq: 999 }), fields: '{}' }))
    parts.push(last.subarray(0, 1 + Math.floor(rand() * (last.length - 1))))
  }
  return Buffer.concat(parts)
}

/** `bytes` cut at random into reads of 1 byte to a few KiB, each in a buffer of its own. */
function reads(bytes: Buffer, seed: number): Buffer[] {
  const rand = random(seed ^ 0x9e3779b9)
  const out: Buffer[] = []
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, 1 + Math.floor(rand() * (rand() < 0.3 ? 16 : 3000)))
    out.push(copy(bytes.subarray(at, at + n)))
    at += n
  }
  return out
}

function framesOf(chunk: PipeChunk): Frame[] {
  const { index } = chunk
  const out: Frame[] = []
  for (let f = 0; f < index.frames; f++) {
    if (((index.frameFlags[f] as number) & FRAME_MALFORMED) !== 0) continue
    out.push(
      decodeFrame(
        index.buf,
        (index.frameStart[f] as number) + FRAME_HEADER_SIZE,
        index.frameEnd[f] as number,
      ),
    )
  }
  return out
}

function oracle(parts: readonly Buffer[]) {
  const frames: Frame[] = []
  const decoder = new FrameDecoder({ maxFrameSize: MAX_FRAME, onFrame: (f) => frames.push(f) })
  for (const part of parts) decoder.push(part)
  decoder.end()
  return { frames, stats: decoder.stats }
}

t.test('the same frames and the same skip counts as FrameDecoder, over 400 random streams', (t) => {
  let mismatched = 0
  const total = { frames: 0, skippedBytes: 0, corrupt: 0, oversized: 0, malformed: 0, truncatedBytes: 0 }
  const pool = new ChunkPool(MAX_FRAME)
  for (let seed = 1; seed <= 400; seed++) {
    const parts = reads(stream(seed), seed)
    const want = oracle(parts)
    // Odd seeds give every chunk back at once (the pool reuses it); even ones
    // hold every chunk to the end, as batches in flight do, and decode it only then.
    const hold = seed % 2 === 0
    const chunker = new FrameChunker(pool, MAX_FRAME)
    const held: PipeChunk[] = []
    const got: Frame[] = []
    const take = (chunk: PipeChunk | undefined) => {
      if (chunk === undefined) return
      if (hold) held.push(chunk)
      else {
        got.push(...framesOf(chunk))
        chunk.release()
      }
    }
    for (const part of parts) take(chunker.push(part))
    take(chunker.end())
    for (const chunk of held) {
      got.push(...framesOf(chunk))
      chunk.release()
    }
    for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += want.stats[key]
    if (mismatched < 3) {
      t.same(got, want.frames, `seed ${seed}: the same frames, in order`)
      t.same(chunker.stats, want.stats, `seed ${seed}: the same counts of frames and skips`)
    }
    if (JSON.stringify(chunker.stats) !== JSON.stringify(want.stats) || got.length !== want.frames.length)
      mismatched++
    t.equal(chunker.pendingBytes, 0, `seed ${seed}: nothing carried after the end`)
  }
  t.equal(mismatched, 0, 'no stream differs')
  t.ok(
    Object.values(total).every((n) => n > 100),
    `the streams hold every kind of frame and damage (${JSON.stringify(total)})`,
  )
  t.end()
})

t.test('a frame carried across reads, byte by byte, comes out once and whole', (t) => {
  const pool = new ChunkPool(MAX_FRAME)
  const chunker = new FrameChunker(pool, MAX_FRAME)
  const entry = {
    ...createEntry({ msg: 'x'.repeat(3000), seq: 7, app: 'a', source: 's' }),
    fields: '{"k":1}',
  }
  const bytes = copy(encoder.entry(entry))
  const chunks: PipeChunk[] = []
  const carried: number[] = []
  for (let i = 0; i < bytes.length; i++) {
    const chunk = chunker.push(copy(bytes.subarray(i, i + 1)))
    if (chunk !== undefined) chunks.push(chunk)
    carried.push(chunker.pendingBytes)
  }
  t.ok(
    carried.every((n, i) => n === (i === bytes.length - 1 ? 0 : i + 1)),
    'every byte before the last is carried',
  )
  t.equal(chunks.length, 1, 'one chunk, once the last byte came')
  t.match(
    framesOf(chunks[0] as PipeChunk),
    [{ type: 'batch', entries: [{ msg: entry.msg, seq: 7 }] }],
    'whole',
  )
  t.equal(chunker.pendingBytes, 0, 'nothing left carried')
  t.same(chunker.stats.skippedBytes, 0, 'nothing skipped')
  t.end()
})

t.test(
  'a read’s pooled buffer: held by the chunk indexed in it, given back at once when its bytes are copied',
  (t) => {
    const pool = new ChunkPool(MAX_FRAME)
    const given: Buffer[] = []
    const giveBuffer = pool.giveBuffer.bind(pool)
    pool.giveBuffer = (buffer: Buffer) => {
      given.push(buffer)
      giveBuffer(buffer)
    }
    const chunker = new FrameChunker(pool, MAX_FRAME)
    const frame = copy(encoder.entry(createEntry({ level: 30, msg: 'one', seq: 1 })))
    const read = (bytes: Buffer): [Buffer, PipeChunk | undefined] => {
      const owner = pool.takeBuffer(JOIN_BUFFER_BYTES)
      bytes.copy(owner)
      return [owner, chunker.push(owner.subarray(0, bytes.length), owner)]
    }

    const [whole, chunk] = read(Buffer.concat([frame, frame]))
    t.ok(
      chunk !== undefined && chunk.buffer === whole,
      'frames indexed in place: the chunk holds the read’s buffer',
    )
    t.notOk(given.includes(whole), 'and it is not given back while the chunk is held')
    chunk?.release()
    t.ok(given.includes(whole), 'released: back to the pool')

    const [cut, none] = read(frame.subarray(0, 10))
    t.equal(none, undefined, 'a read with no whole frame')
    t.ok(given.includes(cut), 'its bytes are carried (copied): its buffer goes back at once')

    const [rest, joined] = read(frame.subarray(10))
    t.ok(joined !== undefined && joined.buffer !== rest, 'the frame it completes is indexed in a join buffer')
    t.ok(given.includes(rest), 'so the read’s buffer goes back at once')
    t.equal(joined?.index.entries, 1, 'one entry')
    joined?.release()
    t.end()
  },
)
