import t from 'tap'
import type { Diagnostic } from '../src/diagnostics.js'
import { createEntry } from '../src/entry.js'
import type { Frame } from '../src/frame.js'
import { ProducerStream } from '../src/producer-stream.js'

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
