// Frames a buggy or hostile producer could write (a CRC is no defence: the
// producer computes it over whatever it wrote), placed between good frames:
// the index never throws and never reaches outside a frame, a line is always
// one valid JSON object, no other entry's line changes, and the index agrees
// with decodeFrame about each frame and each entry (an entry is valid exactly
// when decodeFrame accepts it alone, and then renders its line).

import t from 'tap'
import { createEntry } from '../src/entry.js'
import { FRAME_HEADER_SIZE, FrameEncoder } from '../src/framing.js'
import { EntryIndex, FRAME_MALFORMED, JsonRenderer, SPAN_ENTRY, SPAN_STRIDE } from '../src/wire/index.js'
import { random } from './helpers.js'
import {
  batchPayload,
  decodedLines,
  frameOf,
  type Region,
  randomRegion,
  regionOf,
  writerFrame,
} from './wire-frames.js'

/** Each entry's line alone ('' for an invalid entry). */
function linesOf(index: EntryIndex, r: JsonRenderer): string[] {
  const lines: string[] = []
  for (let i = 0; i < index.entries; i++) {
    r.reset()
    r.render(index, i, i + 1)
    lines.push(r.bytes().toString())
  }
  return lines
}

/** The frame bytes of one entry alone, as the oracle decodes it. */
function aloneFrame(index: EntryIndex, i: number): Buffer {
  const row = i * SPAN_STRIDE + SPAN_ENTRY
  return frameOf(batchPayload([Buffer.from(index.buf.subarray(index.spans[row], index.spans[row + 1]))]))
}

const shared = { index: new EntryIndex({ capacity: 4 }), renderer: new JsonRenderer({ size: 64 * 1024 }) }

interface Checked {
  failures: string[]
}

/**
 * Indexes and renders `region` whose frame `target` was damaged (its good
 * lines are `good`), and checks everything the header comment promises.
 */
function check(region: Region, good: string[][], target: number, what: string, out: Checked): void {
  const fail = (m: string) => out.failures.length < 5 && out.failures.push(`${what}: ${m}`)
  // One index and renderer for every case: they are reused as a source reuses them.
  const index = shared.index
  const r = shared.renderer
  let lines: string[]
  try {
    index.index(region.buf)
    lines = linesOf(index, r)
  } catch (error) {
    fail(`threw ${String(error)}`)
    return
  }
  if (index.frames !== region.frames.length) return void fail(`${index.frames} frames indexed`)
  for (let f = 0; f < index.frames; f++) {
    const first = index.frameFirstEntry[f] as number
    const count = index.frameEntryCount[f] as number
    const frameLines = lines.slice(first, first + count)
    const { start, end } = region.frames[f] as Region['frames'][number]
    if (index.frameStart[f] !== start || index.frameEnd[f] !== end) fail(`frame ${f} moved`)
    for (let i = first; i < first + count; i++) {
      const row = i * SPAN_STRIDE
      for (let s = 0; s < SPAN_STRIDE; s += 2) {
        const a = index.spans[row + s] as number
        const b = index.spans[row + s + 1] as number
        if (a > b || (b > a && (a < start || b > end))) fail(`entry ${i}: span ${s} outside its frame`)
      }
    }
    if (f !== target) {
      if (frameLines.join('') !== (good[f] ?? []).join('')) fail(`frame ${f} (not damaged) changed`)
      continue
    }
    const decoded = decodedLines(region.buf, start, end)
    const malformed = index.frameFlags[f] === FRAME_MALFORMED
    if (malformed !== (decoded === undefined))
      fail(`malformed ${malformed}, decodeFrame ${decoded ? 'accepts' : 'refuses'}`)
    if (decoded !== undefined && frameLines.join('') !== decoded.join(''))
      fail('lines differ from decodeFrame')
    for (let k = 0; k < count; k++) {
      const i = first + k
      const line = frameLines[k] as string
      const alone = aloneFrame(index, i)
      const want = decodedLines(alone, 0, alone.length)
      if ((index.valid[i] === 1) !== (want !== undefined))
        fail(`entry ${i}: valid ${index.valid[i]}, decodeFrame alone disagrees`)
      if (want !== undefined && line !== want.join('')) fail(`entry ${i}: ${line} ≠ ${want.join('')}`)
      if (line !== '') {
        if (!line.endsWith('}\n') || line.indexOf('\n') !== line.length - 1) fail(`entry ${i}: not one line`)
        try {
          const parsed: unknown = JSON.parse(line)
          if (parsed === null || typeof parsed !== 'object') fail(`entry ${i}: not an object`)
        } catch {
          fail(`entry ${i}: not JSON: ${line}`)
        }
      }
    }
  }
}

/** A region of real frames, and a copy of it with frame `target` replaced by `damaged`. */
function withDamaged(base: Buffer[], target: number, damaged: Buffer): Region {
  const parts = base.slice()
  parts[target] = damaged
  return regionOf(parts)
}

function baseFrames(seed: number): Buffer[] {
  const rnd = random(seed)
  const { buf, frames } = randomRegion(rnd, 12)
  // Small frames only (randomEntry sometimes adds 200 kB of fields): each case decodes them all again.
  const parts = frames
    .filter((f) => f.end - f.start < 2048)
    .map((f) => Buffer.from(buf.subarray(f.start, f.end)))
  // Frames with several entries and fields, from the encoder and from the logger's writer.
  const encoder = new FrameEncoder()
  const entries = [1, 2, 3].map((seq) =>
    createEntry({
      msg: `m${seq} "é"`,
      app: 'a',
      source: 's',
      hostname: 'h',
      seq,
      fields: { k: seq, t: 'x\ny' },
    }),
  )
  parts.splice(1, 0, Buffer.from(encoder.batch(entries, 2)))
  parts.splice(3, 0, writerFrame(entries[0] as ReturnType<typeof createEntry>))
  return parts
}

function goodLines(parts: Buffer[]): string[][] {
  return regionOf(parts).frames.map((f) => f.lines)
}

t.test(
  'a payload cut at every byte (header length cut with it) never throws and never moves another line',
  (t) => {
    const parts = baseFrames(1)
    const good = goodLines(parts)
    const out: Checked = { failures: [] }
    let cases = 0
    for (const target of [1, 3]) {
      const frame = parts[target] as Buffer
      for (let cut = FRAME_HEADER_SIZE; cut < frame.length; cut++) {
        const payload = frame.subarray(FRAME_HEADER_SIZE, cut)
        check(
          withDamaged(parts, target, frameOf(payload)),
          good,
          target,
          `frame ${target} cut at ${cut}`,
          out,
        )
        cases++
      }
    }
    t.same(out.failures, [], `${cases} cut frames: no failure`)
    t.ok(cases > 100, 'enough cases to mean something')
    t.end()
  },
)

t.test('every payload byte set to 0x00, 0x7f, 0x80 and 0xff: lengths, tags and varints all go wrong', (t) => {
  const parts = baseFrames(2)
  const good = goodLines(parts)
  const out: Checked = { failures: [] }
  let cases = 0
  for (const target of [1, 3]) {
    const frame = parts[target] as Buffer
    for (let at = FRAME_HEADER_SIZE; at < frame.length; at++) {
      for (const value of [0x00, 0x7f, 0x80, 0xff, 0x0a, 0x03]) {
        const damaged = Buffer.from(frame)
        damaged[at] = value
        const fixed = frameOf(damaged.subarray(FRAME_HEADER_SIZE))
        check(withDamaged(parts, target, fixed), good, target, `frame ${target}[${at}] = ${value}`, out)
        cases++
      }
    }
  }
  t.same(out.failures, [], `${cases} damaged frames: no failure`)
  t.end()
})

t.test('random byte flips in random frames', (t) => {
  const rnd = random(3)
  const out: Checked = { failures: [] }
  let malformed = 0
  for (let round = 0; round < 300; round++) {
    const parts = baseFrames(100 + (round % 10))
    const good = goodLines(parts)
    const target = Math.floor(rnd() * parts.length)
    const damaged = Buffer.from(parts[target] as Buffer)
    for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
      const at = FRAME_HEADER_SIZE + Math.floor(rnd() * (damaged.length - FRAME_HEADER_SIZE))
      damaged[at] = (damaged[at] as number) ^ (1 << Math.floor(rnd() * 8))
    }
    const region = withDamaged(parts, target, frameOf(damaged.subarray(FRAME_HEADER_SIZE)))
    if (region.frames[target]?.type === 'malformed') malformed++
    check(region, good, target, `round ${round}`, out)
  }
  t.same(out.failures, [], '300 rounds: no failure')
  t.ok(malformed > 10, `some flips made frames decodeFrame refuses (${malformed})`)
  t.end()
})

t.test('bad headers, frames past the end, a failed CRC: indexing stops at the frame and says why', (t) => {
  const parts = baseFrames(4)
  const region = regionOf(parts)
  const second = region.frames[1]?.start as number
  const index = new EntryIndex()

  const garbage = Buffer.concat([parts[0] as Buffer, Buffer.from('garbage!'), ...parts.slice(1)])
  t.equal(index.index(garbage), second, 'stops where the garbage starts')
  t.equal(index.stop, 'bad-header', 'as a bad header')
  t.equal(index.frames, 1, 'with the frame before it')
  t.equal(index.add(second + 8, garbage.length), garbage.length, 'goes on after the caller skips the garbage')
  t.equal(index.frames, parts.length, 'and indexes the rest')
  t.equal(index.stop, 'end', 'to the end')

  t.equal(
    index.index(region.buf, 0, region.buf.length - 1),
    region.frames.at(-1)?.start,
    'a cut last frame is left out',
  )
  t.equal(index.stop, 'partial', 'as partial')
  t.equal(index.index(region.buf, 0, second + 5), second, 'a cut header too')
  t.equal(index.stop, 'partial', 'as partial')

  const version = Buffer.from(region.buf)
  version[second + 2] = 9
  index.index(version)
  t.equal(index.stop, 'bad-header', 'another version is a bad header')
  const huge = Buffer.from(region.buf)
  huge.writeUInt32LE(0xffffffff, second + 4)
  t.equal(index.index(huge), second, 'a length over maxFrameSize stops at its frame')
  t.equal(index.stop, 'bad-header', 'as a bad header, without reading it')

  const corrupt = Buffer.from(region.buf)
  corrupt[second + FRAME_HEADER_SIZE + 3] ^= 0x10
  t.equal(new EntryIndex().index(corrupt), corrupt.length, 'without checkCrc a changed byte is indexed')
  const checking = new EntryIndex({ checkCrc: true })
  t.equal(checking.index(corrupt), second, 'with checkCrc it stops at the frame')
  t.equal(checking.stop, 'corrupt', 'as corrupt')
  t.equal(checking.index(region.buf), region.buf.length, 'and good frames pass the check')
  t.end()
})

t.test(
  'wire types protobuf does not have, and lengths past every boundary, mark the entry or the frame',
  (t) => {
    const index = new EntryIndex()
    const ok = Buffer.from([0x22, 1, 0x61])
    const cases: [string, Buffer, number, number][] = [
      // name, payload, entries indexed, invalid entries
      ['a group (wire type 3) in an entry', batchPayload([ok, Buffer.from([0x23]), ok]), 3, 1],
      ['wire type 7 in an entry', batchPayload([Buffer.from([0x27, 0])]), 1, 1],
      ['a string length past the entry', batchPayload([Buffer.from([0x22, 5, 0x61]), ok]), 2, 1],
      ['an 11-byte varint', batchPayload([Buffer.from([0x10, ...Array(10).fill(0x80), 1])]), 1, 1],
      ['a cut fixed64', batchPayload([Buffer.from([0x09, 1, 2, 3])]), 1, 1],
      ['a cut fixed32', batchPayload([Buffer.from([0x0d, 1, 2])]), 1, 1],
      ['an entry length past the batch', Buffer.from([0x0a, 5, 0x0a, 3, 0x22, 1, 0x61, 0x0a, 9, 0x22]), 1, 0],
      ['a batch length past the frame', Buffer.from([0x0a, 50, 0x0a, 3, 0x22, 1, 0x61]), 0, 0],
      ['a cut tag at the top level', Buffer.concat([batchPayload([ok]), Buffer.from([0x80])]), 1, 0],
      ['wire type 6 at the top level', Buffer.concat([batchPayload([ok]), Buffer.from([0x0e])]), 1, 0],
      ['a huge length at the top level', Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]), 0, 0],
      ['a hello with a cut field', Buffer.from([0x12, 2, 0x0a, 5]), 0, 0],
    ]
    for (const [name, payload, entries, invalid] of cases) {
      const frame = frameOf(payload)
      index.index(frame)
      t.equal(index.frameFlags[0], FRAME_MALFORMED, `${name}: the frame is malformed`)
      t.equal(decodedLines(frame, 0, frame.length), undefined, `${name}: as decodeFrame refuses it`)
      t.equal(index.entries, entries, `${name}: ${entries} entries indexed`)
      t.equal(index.invalidEntries, invalid, `${name}: ${invalid} invalid`)
      t.equal(index.malformedFrames, 1, `${name}: counted once`)
    }
    t.end()
  },
)
