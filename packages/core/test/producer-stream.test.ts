import t from 'tap'
import { decodeFrame } from '../src/codec.js'
import type { Diagnostic } from '../src/diagnostics.js'
import { createEntry } from '../src/entry.js'
import type { Frame } from '../src/frame.js'
import { FRAME_HEADER_SIZE, FrameEncoder } from '../src/framing.js'
import { ProducerStream } from '../src/producer-stream.js'
import { EntryIndex } from '../src/wire/entry-index.js'
import { random } from './helpers.js'

const hello: Frame = {
  type: 'hello',
  app: 'a',
  source: 's',
  pid: 7,
  hostname: 'h',
  protocol: 1,
  transport: 'memory',
  capabilities: [],
  startTime: 1n,
}
const batch = (seqs: number[], dropped = 0): Frame => ({
  type: 'batch',
  entries: seqs.map((seq) => createEntry({ seq, msg: `m${seq}` })),
  dropped,
})

function stream() {
  const diagnostics: Diagnostic[] = []
  const s = new ProducerStream((d) => diagnostics.push(d as Diagnostic), 'test producer')
  return { s, diagnostics }
}

t.test('contiguous sequences pass untouched', (t) => {
  const { s, diagnostics } = stream()
  s.accept(hello)
  t.same(
    s.accept(batch([1, 2, 3])).map((e) => e.seq),
    [1, 2, 3],
    'all three',
  )
  t.same(diagnostics, [], 'no diagnostics')
  t.end()
})

t.test('a gap matched by announced drops is reported as dropped, not lost', (t) => {
  const { s, diagnostics } = stream()
  s.accept(hello)
  s.accept(batch([1]))
  s.accept(batch([4], 2))
  t.same(
    diagnostics.map((d) => [d.code, d.count]),
    [['dropped', 2]],
    'two dropped by the producer',
  )
  t.equal(s.stats.lost, 0, 'none lost')
  t.end()
})

t.test('a gap beyond announced drops is reported as a seq gap with the exact count', (t) => {
  const { s, diagnostics } = stream()
  s.accept(hello)
  s.accept(batch([1]))
  s.accept(batch([6], 1))
  t.same(
    diagnostics.map((d) => [d.code, d.count]),
    [
      ['dropped', 1],
      ['seq_gap', 3],
    ],
    'one announced, three unexplained',
  )
  t.equal(s.stats.lost, 3, 'three lost')
  t.end()
})

t.test('entries seen again are skipped as duplicates', (t) => {
  const { s } = stream()
  s.accept(hello)
  s.accept(batch([1, 2, 3]))
  t.same(
    s.accept(batch([2, 3, 4, 5])).map((e) => e.seq),
    [4, 5],
    'only the new ones pass',
  )
  t.equal(s.stats.duplicates, 2, 'two duplicates counted')
  t.end()
})

t.test('a new hello restarts the sequence; goodbye reports a missing tail', (t) => {
  const { s, diagnostics } = stream()
  s.accept(hello)
  s.accept(batch([1, 2]))
  s.accept(hello)
  t.same(
    s.accept(batch([1])).map((e) => e.seq),
    [1],
    'seq 1 of the new run is not a duplicate',
  )
  s.accept({ type: 'goodbye', lastSeq: 3, dropped: 0 })
  t.ok(s.goodbye, 'goodbye recorded')
  t.same(
    diagnostics.map((d) => [d.code, d.count]),
    [['seq_gap', 2]],
    'entries 2 and 3 never arrived',
  )
  t.end()
})

t.test('a stream joined mid-way without a hello does not invent a gap', (t) => {
  const { s, diagnostics } = stream()
  t.same(
    s.accept(batch([500, 501])).map((e) => e.seq),
    [500, 501],
    'entries pass',
  )
  t.same(diagnostics, [], 'no gap reported for what came before')
  t.end()
})

t.test('a goodbye whose total drops explain a missing tail reports them as dropped, not lost', (t) => {
  const { s, diagnostics } = stream()
  s.accept(hello)
  s.accept(batch([1, 2]))
  s.accept({ type: 'goodbye', lastSeq: 5, dropped: 3 })
  t.same(
    diagnostics.map((d) => [d.code, d.count]),
    [['dropped', 3]],
    'three dropped, none lost',
  )
  t.equal(s.stats.dropped, 3, 'counted as dropped')
  t.equal(s.stats.lost, 0, 'not as lost')
  t.end()
})

t.test('acceptRows, the byte path, decides as accept does on the decoded frames', (t) => {
  const rnd = random(1207)
  for (let trial = 0; trial < 40; trial++) {
    // Frames of a producer: batches with drops, restarts (hello), goodbyes,
    // duplicates (a frame sent again) and gaps (a frame missing).
    const encoder = new FrameEncoder()
    const frames: Buffer[] = []
    let seq = 1
    for (let i = 0; i < 60; i++) {
      const pick = rnd()
      if (pick < 0.05) frames.push(Buffer.from(encoder.hello({ ...helloOf(7) })))
      else if (pick < 0.08)
        frames.push(Buffer.from(encoder.goodbye({ lastSeq: seq - 1, dropped: Math.floor(rnd() * 4) })))
      else if (pick < 0.15 && frames.length > 0)
        frames.push(frames[Math.floor(rnd() * frames.length)] as Buffer)
      else {
        const n = Math.floor(rnd() * 4)
        const list = Array.from({ length: n }, () => createEntry({ seq: seq++, msg: 'm', pid: 7 }))
        if (rnd() < 0.1) seq += 1 + Math.floor(rnd() * 3) // lost, not announced
        const frame = Buffer.from(encoder.batch(list, rnd() < 0.2 ? Math.floor(rnd() * 3) : 0))
        if (rnd() > 0.05) frames.push(frame)
      }
    }
    const decoded = stream()
    const bytes = stream()
    const expected: number[] = []
    for (const frame of frames) {
      for (const entry of decoded.s.accept(decodeFrame(frame, FRAME_HEADER_SIZE))) expected.push(entry.seq)
    }
    const index = new EntryIndex()
    index.index(Buffer.concat(frames))
    const rows = new Int32Array(index.entries)
    let n = 0
    for (let f = 0; f < index.frames; f++) n = bytes.s.acceptRows(index, f, rows, n)
    const got = Array.from(rows.subarray(0, n), (row) => index.seq[row] as number)
    t.same(got, expected, `trial ${trial}: the same entries`)
    t.same(
      bytes.s.stats,
      { ...decoded.s.stats, lastSeen: bytes.s.stats.lastSeen },
      `trial ${trial}: the same counts`,
    )
    t.same(
      bytes.diagnostics.map((d) => [d.code, d.count, d.message]),
      decoded.diagnostics.map((d) => [d.code, d.count, d.message]),
      `trial ${trial}: the same reports`,
    )
  }
  t.end()
})

function helloOf(pid: number) {
  return {
    app: 'a',
    source: 's',
    pid,
    hostname: 'h',
    protocol: 1,
    transport: 'shm',
    capabilities: [],
    startTime: 1n,
  }
}
