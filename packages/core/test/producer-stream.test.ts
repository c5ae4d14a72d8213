import t from 'tap'
import { decodeFrame } from '../src/codec.js'
import type { Diagnostic } from '../src/diagnostics.js'
import { createEntry } from '../src/entry.js'
import { CAPABILITY_DROP_REASONS, type DropReasons, type Frame, NO_DROP_REASONS } from '../src/frame.js'
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
const batch = (seqs: number[], dropped = 0, reasons: DropReasons = NO_DROP_REASONS): Frame => ({
  type: 'batch',
  entries: seqs.map((seq) => createEntry({ seq, msg: `m${seq}` })),
  dropped,
  ...reasons,
})
const goodbye = (lastSeq: number, dropped: number, reasons: DropReasons = NO_DROP_REASONS): Frame => ({
  type: 'goodbye',
  lastSeq,
  dropped,
  ...reasons,
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
  s.accept(goodbye(3, 0))
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
  s.accept(goodbye(5, 3))
  t.same(
    diagnostics.map((d) => [d.code, d.count]),
    [['dropped', 3]],
    'three dropped, none lost',
  )
  t.equal(s.stats.dropped, 3, 'counted as dropped')
  t.equal(s.stats.lost, 0, 'not as lost')
  t.end()
})

t.test('drops are reported by reason: too large, unserializable, and the rest a full buffer', (t) => {
  const { s, diagnostics } = stream()
  s.accept({ ...hello, capabilities: [CAPABILITY_DROP_REASONS] })
  s.accept(batch([1]))
  s.accept(batch([8], 6, { droppedTooLarge: 2, droppedUnserializable: 1 }))
  s.accept(goodbye(10, 8, { droppedTooLarge: 2, droppedUnserializable: 2 }))
  t.same(
    diagnostics.map((d) => [d.code, d.count, d.details?.['reason'], d.details?.['pid']]),
    [
      ['dropped', 2, 'entry_too_large', 7],
      ['dropped', 1, 'entry_unserializable', 7],
      ['dropped', 3, 'producer_buffer_full', 7],
      ['dropped', 1, 'entry_unserializable', 7],
      ['dropped', 1, 'producer_buffer_full', 7],
    ],
    "each reason apart, in the batch and in the goodbye's unannounced rest",
  )
  t.match(diagnostics[0]?.message, /maxFrameSize/, 'too large: says which limit to raise')
  t.match(
    diagnostics[1]?.message,
    /LOGKIT_W_ENTRY_UNSERIALIZABLE/,
    "unserializable: points at the producer's warning",
  )
  t.match(diagnostics[2]?.message, /full/, 'the rest: a full ring or pipe buffer')
  t.same(
    [s.stats.dropped, s.stats.droppedTooLarge, s.stats.droppedUnserializable, s.stats.lost],
    [8, 2, 2, 0],
    'counted by reason; the gaps are explained, none lost',
  )
  t.same(s.drops, { dropped: 8, droppedTooLarge: 2, droppedUnserializable: 2 }, 'the snapshot agrees')
  t.end()
})

t.test("an older producer's drops, counted without reasons, are not called a full buffer", (t) => {
  const { s, diagnostics } = stream()
  s.accept(hello) // no drop-reasons capability
  s.accept(batch([1]))
  s.accept(batch([4], 2))
  t.same(
    diagnostics.map((d) => [d.count, d.details?.['reason']]),
    [[2, 'dropped_by_producer']],
    'reason unknown',
  )
  t.match(diagnostics[0]?.message, /warnings say which/, 'sends the user to the producer')
  t.end()
})

t.test('resume() goes on from a checkpoint: what was reported there is not reported again', (t) => {
  const { s, diagnostics } = stream()
  s.accept({ ...hello, capabilities: [CAPABILITY_DROP_REASONS] })
  s.resume(10, { dropped: 3, droppedTooLarge: 1, droppedUnserializable: 0 })
  t.same(
    s.accept(batch([9, 10, 11])).map((e) => e.seq),
    [11],
    'up to the checkpoint: duplicates',
  )
  s.accept(goodbye(11, 5, { droppedTooLarge: 2, droppedUnserializable: 0 }))
  t.same(
    diagnostics.map((d) => [d.count, d.details?.['reason']]),
    [
      [1, 'entry_too_large'],
      [1, 'producer_buffer_full'],
    ],
    'only what the goodbye adds',
  )
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
      if (pick < 0.05)
        frames.push(
          Buffer.from(
            encoder.hello({ ...helloOf(7), capabilities: rnd() < 0.5 ? [CAPABILITY_DROP_REASONS] : [] }),
          ),
        )
      else if (pick < 0.08) {
        const dropped = Math.floor(rnd() * 6)
        frames.push(
          Buffer.from(encoder.goodbye({ lastSeq: seq - 1, dropped, ...randomReasons(rnd, dropped) })),
        )
      } else if (pick < 0.15 && frames.length > 0)
        frames.push(frames[Math.floor(rnd() * frames.length)] as Buffer)
      else {
        const n = Math.floor(rnd() * 4)
        const list = Array.from({ length: n }, () => createEntry({ seq: seq++, msg: 'm', pid: 7 }))
        if (rnd() < 0.1) seq += 1 + Math.floor(rnd() * 3) // lost, not announced
        const dropped = rnd() < 0.2 ? Math.floor(rnd() * 5) : 0
        const frame = Buffer.from(encoder.batch(list, dropped, randomReasons(rnd, dropped)))
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
      bytes.diagnostics.map((d) => [d.code, d.count, d.message, d.details?.['reason']]),
      decoded.diagnostics.map((d) => [d.code, d.count, d.message, d.details?.['reason']]),
      `trial ${trial}: the same reports`,
    )
  }
  t.end()
})

/** Of `dropped`, some too large and some unserializable, or none named. */
function randomReasons(rnd: () => number, dropped: number): DropReasons {
  if (dropped === 0 || rnd() < 0.3) return NO_DROP_REASONS
  const droppedTooLarge = Math.floor(rnd() * (dropped + 1))
  return { droppedTooLarge, droppedUnserializable: Math.floor(rnd() * (dropped - droppedTooLarge + 1)) }
}

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
