// The frame hash (frame-check.ts): its definition, held to a reference written
// another way (BigInt arithmetic over the words, mod 2^32); what it catches
// in a real frame (every change of one byte, words swapped); and which check
// a header's flags select, in the TypeScript and in the native index alike.

import t from 'tap'
import { crc32 } from '../src/crc32.js'
import { EntryFrameWriter } from '../src/entry-writer.js'
import { FRAME_FLAG_HASH, frameCheckMatches, frameHash, viewOf } from '../src/frame-check.js'
import { FRAME_CRC_OFFSET, FRAME_HEADER_SIZE, writeFrameHeader } from '../src/framing.js'
import { EntryIndex } from '../src/wire/index.js'
import { random } from './helpers.js'

const M = 1n << 32n

const mul = (h: bigint, c: bigint) => (h * c) % M

/** The frame hash as frame-check.ts defines it, in BigInt: words, two lanes, the check. */
function reference(bytes: Uint8Array): number {
  const words: bigint[] = []
  for (let i = 0; i < bytes.length; i += 4) {
    let w = 0n
    for (let k = 0; k < 4 && i + k < bytes.length; k++) w += BigInt(bytes[i + k] as number) << BigInt(8 * k)
    words.push(w)
  }
  let h1 = BigInt(bytes.length) ^ 0x811c9dc5n
  let h2 = 0x2545f491n
  words.forEach((w, k) => {
    if (k % 2 === 0) h1 = mul(h1 ^ w, 0x9e3779b1n)
    else h2 = mul(h2 ^ w, 0x85ebca77n)
  })
  return Number(h1 ^ mul(h2, 0xc2b2ae3dn))
}

t.test('frameHash is the reference hash at every length and alignment', (t) => {
  const rnd = random(5)
  const buf = Buffer.alloc(600)
  for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256)
  let wrong = 0
  for (let length = 0; length <= 300; length++)
    for (let start = 0; start < 8; start++)
      if (frameHash(viewOf(buf), start, start + length) !== reference(buf.subarray(start, start + length)))
        wrong++
  t.equal(wrong, 0, 'lengths 0 to 300 at offsets 0 to 7')
  t.equal(frameHash(viewOf(Buffer.alloc(0)), 0, 0), reference(new Uint8Array(0)), 'the empty payload')
  t.not(frameHash(viewOf(Buffer.alloc(64)), 0, 64), 0, 'zeros do not hash to zero')
  t.end()
})

/** A frame as the logger writes it (flags FRAME_FLAG_HASH). */
function loggerFrame(): Buffer {
  const w = new EntryFrameWriter('app', 42, 'host')
  const start = w.entry(
    1_700_000_000_123,
    30,
    'request completed',
    'api',
    7,
    Buffer.alloc(0),
    { reqId: 'c0ffee-42', userId: 1234, path: '/api/orders/42' },
    '',
    0,
  )
  return Buffer.from(w.buf.subarray(start, w.pos))
}

t.test('a logger frame carries the hash; every change to one of its bytes is caught', (t) => {
  const frame = loggerFrame()
  t.equal(frame[3], FRAME_FLAG_HASH, 'flags say: frame hash')
  const check = frame.readUInt32LE(FRAME_CRC_OFFSET)
  t.equal(check, reference(frame.subarray(FRAME_HEADER_SIZE)), 'its check is the hash of its payload')
  t.ok(frameCheckMatches(frame, FRAME_FLAG_HASH, FRAME_HEADER_SIZE, frame.length, check), 'it matches')
  let missed = 0
  for (let i = FRAME_HEADER_SIZE; i < frame.length; i++)
    for (const x of [0x01, 0x80, 0xff, 0x5a]) {
      const copy = Buffer.from(frame)
      copy[i] = (copy[i] as number) ^ x
      if (frameCheckMatches(copy, FRAME_FLAG_HASH, FRAME_HEADER_SIZE, copy.length, check)) missed++
    }
  t.equal(missed, 0, 'every byte of the payload, four ways each')
  let swapsMissed = 0
  for (let i = FRAME_HEADER_SIZE; i + 8 <= frame.length; i += 4) {
    const copy = Buffer.from(frame)
    const word = copy.readUInt32LE(i)
    if (word === copy.readUInt32LE(i + 4)) continue
    copy.writeUInt32LE(copy.readUInt32LE(i + 4), i)
    copy.writeUInt32LE(word, i + 4)
    if (frameCheckMatches(copy, FRAME_FLAG_HASH, FRAME_HEADER_SIZE, copy.length, check)) swapsMissed++
  }
  t.equal(swapsMissed, 0, 'two neighbouring words swapped')
  t.end()
})

t.test('flags choose the check; unknown flags match nothing', (t) => {
  const frame = loggerFrame()
  const payload = frame.subarray(FRAME_HEADER_SIZE)
  const crc = crc32(frame, FRAME_HEADER_SIZE, frame.length)
  const hash = frame.readUInt32LE(FRAME_CRC_OFFSET)
  t.ok(frameCheckMatches(frame, 0, FRAME_HEADER_SIZE, frame.length, crc), 'flags 0: CRC-32')
  t.notOk(frameCheckMatches(frame, 0, FRAME_HEADER_SIZE, frame.length, hash), 'flags 0 with a hash: no')
  t.notOk(
    frameCheckMatches(frame, FRAME_FLAG_HASH, FRAME_HEADER_SIZE, frame.length, crc),
    'the hash flag with a CRC: no',
  )
  for (const flags of [2, 3, 0x80, 0xff])
    t.notOk(frameCheckMatches(frame, flags, FRAME_HEADER_SIZE, frame.length, hash), `flags ${flags}: no`)

  // The same, as both index loops see frames: a CRC frame, a hash frame, then one with an unknown flag.
  const crcFrame = Buffer.alloc(frame.length)
  payload.copy(crcFrame, FRAME_HEADER_SIZE)
  writeFrameHeader(crcFrame, 0, payload.length, crc)
  const unknown = Buffer.from(frame)
  unknown[3] = 2
  for (const implementation of ['js', 'native'] as const) {
    const index = new EntryIndex({ checkCrc: true, implementation })
    index.index(Buffer.concat([crcFrame, frame, unknown]))
    t.equal(index.entries, 2, `${implementation}: the CRC frame and the hash frame are read`)
    t.equal(index.stop, 'corrupt', `${implementation}: the frame with an unknown flag is not`)
  }
  t.end()
})
