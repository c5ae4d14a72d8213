// The tail's history keeps the last entries as bytes copied out of their
// batches and decodes them only when asked: the same entries, in the same
// order, as the entries themselves, within its entry and byte bounds, and
// unchanged when the batch's own bytes are reused afterwards.

import { createEntry, FrameEncoder, type LogEntry } from '@logkit/core'
import { EntryBatch, EntryIndex } from '@logkit/core/wire'
import t from 'tap'
import { TailHistory } from '../src/tail-history.js'

let seq = 0
function entries(n: number, msg = 'm'): LogEntry[] {
  return Array.from({ length: n }, () =>
    createEntry({
      level: 30,
      app: 'a',
      source: 's',
      pid: 7,
      seq: ++seq,
      msg: `${msg} ${seq}`,
      fields: { n: seq },
    }),
  )
}

/** The entries as one batch over real frames (some frames hold several), its bytes in a buffer of their own. */
function batchOf(list: readonly LogEntry[]): EntryBatch {
  const encoder = new FrameEncoder()
  const parts: Buffer[] = []
  for (let i = 0; i < list.length; i += 3) parts.push(Buffer.from(encoder.batch(list.slice(i, i + 3))))
  const index = new EntryIndex()
  index.index(Buffer.concat(parts))
  return EntryBatch.of(index)
}

const seqs = (list: readonly LogEntry[]) => list.map((e) => e.seq)
const texts = (list: readonly LogEntry[]) => list.map((e) => `${e.seq} ${e.msg} ${e.fields.json}`)

t.test('the last `size` entries, oldest first, from batches and objects alike', (t) => {
  const history = new TailHistory(10, 1 << 20)
  const first = entries(4)
  history.addBatches([batchOf(first)])
  const plain = entries(2, 'diagnostic')
  history.addEntries(plain)
  const second = entries(7)
  const third = entries(3)
  history.addBatches([batchOf(second), batchOf(third)])
  const all = [...first, ...plain, ...second, ...third]
  t.same(texts(history.entries()), texts(all.slice(-10)), 'the last 10, decoded as they were written')
  history.addBatches([batchOf(entries(25))])
  t.same(
    seqs(history.entries()),
    Array.from({ length: 10 }, (_, k) => seq - 9 + k),
    'a batch larger than the history: its last 10',
  )
  t.end()
})

t.test('a selection keeps only its rows', (t) => {
  const list = entries(9)
  const whole = batchOf(list)
  const history = new TailHistory(100, 1 << 20)
  history.addBatches([whole.withRows(Int32Array.from([1, 4, 5, 8]))])
  t.same(
    seqs(history.entries()),
    [1, 4, 5, 8].map((k) => (list[k] as LogEntry).seq),
    'rows 1, 4, 5 and 8',
  )
  t.end()
})

t.test('the bytes are copied: reusing the batch’s bytes changes nothing kept', (t) => {
  const list = entries(5)
  const batch = batchOf(list)
  const history = new TailHistory(100, 1 << 20)
  history.addBatches([batch])
  batch.index.buf.fill(0xff)
  t.same(texts(history.entries()), texts(list), 'decoded from the copy')
  t.end()
})

t.test('the byte bound drops the oldest runs, never the newest', (t) => {
  const history = new TailHistory(1000, 2000)
  for (let r = 0; r < 20; r++) history.addBatches([batchOf(entries(5))])
  const kept = history.entries()
  t.ok(kept.length >= 5 && kept.length < 100, `fewer than the 100 written are kept (${kept.length})`)
  t.equal(kept.at(-1)?.seq, seq, 'the newest entry is there')
  t.same(
    seqs(kept),
    Array.from({ length: kept.length }, (_, k) => seq - kept.length + 1 + k),
    'the newest ones, in order',
  )
  const big = new TailHistory(1000, 400)
  const twenty = entries(20)
  big.addBatches([batchOf(twenty)])
  const fit = big.entries()
  t.ok(
    fit.length > 0 && fit.length < 20,
    `a run larger than the bound keeps some of its rows (${fit.length})`,
  )
  t.same(texts(fit), texts(twenty.slice(-fit.length)), 'the newest ones')
  t.end()
})

t.test('written round its buffer: what is kept is always the newest entries, intact', (t) => {
  // Batches of 1 to 40 entries (some with rows left out) into a buffer that holds a few of them:
  // runs go at the end, wrap to the start and push the oldest out, over and over.
  let state = 7
  const random = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n
  }
  const history = new TailHistory(100, 3000)
  const written: LogEntry[] = []
  let bad = 0
  for (let round = 0; round < 400; round++) {
    const list = entries(1 + random(40), 'x'.repeat(random(60)))
    const batch = batchOf(list)
    if (random(4) === 0 && list.length > 2) {
      const rows = Int32Array.from(list.keys()).filter((k) => k % 2 === 0)
      history.addBatches([batch.withRows(rows)])
      for (const k of rows) written.push(list[k] as LogEntry)
    } else {
      history.addBatches([batch])
      written.push(...list)
    }
    const kept = history.entries()
    const expected = written.slice(-kept.length)
    if (kept.length === 0 || kept.length > 100 || texts(kept).join('\n') !== texts(expected).join('\n')) bad++
  }
  t.equal(bad, 0, 'after every batch: 1 to 100 entries, the newest written, each as it was')
  t.end()
})

t.test('size 0 keeps nothing', (t) => {
  const history = new TailHistory(0, 1 << 20)
  history.addBatches([batchOf(entries(3))])
  history.addEntries(entries(2))
  t.same(history.entries(), [])
  t.end()
})
