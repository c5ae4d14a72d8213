// Entries as the collector's byte path hands them to a sink: encoded into real
// frames by core's FrameEncoder, indexed by EntryIndex, one EntryBatch over
// each region of frames. And random entries with awkward strings, numbers,
// fields and trace ids (after core's test/helpers.ts randomEntry).

import { createEntry, Fields, FrameEncoder, formatJson, type LogEntry } from '@logkit/core'
import { EntryBatch, EntryIndex } from '@logkit/core/wire'

const encoder = new FrameEncoder({ maxFrameSize: 16 * 1024 * 1024 })

/** A region of frames holding `entries` in order, up to `perFrame` in each batch frame. */
export function regionOf(entries: readonly LogEntry[], perFrame = 3): Buffer {
  const frames: Buffer[] = []
  for (let i = 0; i < entries.length; i += perFrame) {
    // The encoder reuses its buffer: each frame is copied out.
    frames.push(Buffer.from(encoder.batch(entries.slice(i, i + perFrame))))
  }
  return Buffer.concat(frames)
}

/** An index of the frames of `region` (which it keeps pointing into). */
export function indexOf(region: Buffer): EntryIndex {
  const index = new EntryIndex({ checkCrc: true })
  index.index(region)
  if (index.stop !== 'end' || index.invalidEntries > 0) throw new Error(`region indexed badly: ${index.stop}`)
  return index
}

/** A batch of every entry of `entries`, as bytes of real frames. */
export function batchOf(entries: readonly LogEntry[], perFrame = 3): EntryBatch {
  return EntryBatch.of(indexOf(regionOf(entries, perFrame)))
}

/** The JSON lines formatJson makes of entries, as one text. */
export function jsonLines(entries: readonly LogEntry[]): string {
  return entries.map((e) => `${formatJson(e)}\n`).join('')
}

export { seededRandom as random } from '@logkit/core/testing'

const alphabet = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '\n',
  '\t',
  'é',
  'ß',
  '✓',
  '日本',
  '🎉',
  '\u0000',
  '\u001f',
  '{',
  '}',
  '\u2028',
]

function randomString(rnd: () => number, max: number): string {
  let s = ''
  for (let n = Math.floor(rnd() * max); n > 0; n--) s += alphabet[Math.floor(rnd() * alphabet.length)]
  return s
}

const NUMBERS = [0, -0, 1e21, -1e-7, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 0.1, -123456789]

function randomJson(rnd: () => number, depth = 0): unknown {
  const pick = rnd()
  if (depth > 2 || pick < 0.4) {
    const kind = Math.floor(rnd() * 5)
    if (kind === 0) return randomString(rnd, 12)
    if (kind === 1) return NUMBERS[Math.floor(rnd() * NUMBERS.length)]
    if (kind === 2) return rnd() * 1000 - 500
    if (kind === 3) return rnd() < 0.5
    return null
  }
  if (pick < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => randomJson(rnd, depth + 1))
  const obj: Record<string, unknown> = {}
  for (let i = Math.floor(rnd() * 4); i > 0; i--)
    obj[randomString(rnd, 6) || 'k'] = randomJson(rnd, depth + 1)
  return obj
}

/** An entry with awkward text everywhere; now and then a large one (`large` bytes of fields). */
export function randomEntry(rnd: () => number, seq: number, large = 0): LogEntry {
  const fields: Record<string, unknown> = {}
  for (let i = Math.floor(rnd() * 4); i > 0; i--) fields[`f${i}${randomString(rnd, 3)}`] = randomJson(rnd)
  if (large > 0 && rnd() < 0.01) fields['big'] = 'é'.repeat(Math.floor(rnd() * large))
  // Identities repeat, as they do in a ring, and change now and then.
  const who = Math.floor(rnd() * 1.3)
  return createEntry({
    time: BigInt(Math.floor(rnd() * 2 ** 31)) * 1_000_000_000n + BigInt(Math.floor(rnd() * 1e9)),
    level: [10, 20, 30, 40, 50, 60][Math.floor(rnd() * 6)] as number,
    msg: randomString(rnd, 60),
    app: who === 0 ? 'shop' : randomString(rnd, 8),
    source: who === 0 ? 'api' : randomString(rnd, 8),
    pid: who === 0 ? 4242 : Math.floor(rnd() * 4_000_000),
    hostname: who === 0 ? 'host-1' : randomString(rnd, 10),
    seq: rnd() < 0.1 ? 0 : seq,
    fields: Fields.of(fields),
    ...(rnd() < 0.3 ? { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' } : {}),
  })
}

/** `n` random entries, seq from `first`. */
export function randomEntries(rnd: () => number, n: number, first = 1, large = 0): LogEntry[] {
  return Array.from({ length: n }, (_, i) => randomEntry(rnd, first + i, large))
}
