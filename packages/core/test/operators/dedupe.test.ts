import { from, toArray } from 'rxjs'
import t from 'tap'
import type { Diagnostic } from '../../src/diagnostics.js'
import { createEntry, type LogEntry } from '../../src/entry.js'
import { FrameEncoder } from '../../src/framing.js'
import { coreOperators } from '../../src/operators/core-operators.js'
import { dedupe, dedupeDefinition } from '../../src/operators/dedupe.js'
import { validateOptions } from '../../src/plugin.js'
import { marbles, testEntries } from '../../src/testing/marbles.js'
import { EntryBatch, isEntryBatch } from '../../src/wire/entry-batch.js'
import { EntryIndex } from '../../src/wire/entry-index.js'

// One log call of one process: its time follows from its seq (a repeat is a copy, with the same time).
const T0 = 1_790_000_000_000_000_000n
const at = (seq: number, hostname = 'h1', pid = 1, msg = `s${seq}`, time = T0 + BigInt(seq) * 1000n) =>
  createEntry({ seq, hostname, pid, msg, app: 'shop', source: 'web', time })

function recorder() {
  const seen: Omit<Diagnostic, 'stage' | 'component'>[] = []
  return { report: (d: Omit<Diagnostic, 'stage' | 'component'>) => void seen.push(d), seen }
}

const run = async (items: readonly (LogEntry | EntryBatch)[], op = dedupe()) =>
  (await from(items).pipe(op, toArray()).toPromise()) ?? []

function batchOf(entries: readonly LogEntry[]): EntryBatch {
  const index = new EntryIndex()
  index.index(Buffer.from(new FrameEncoder().batch(entries)))
  return EntryBatch.of(index)
}

t.test(
  'dedupe keeps the first entry of each (hostname, pid, seq) and drops the repeats, counting them',
  async (t) => {
    const { report, seen } = recorder()
    const out = await run(
      [at(1), at(2), at(1), at(2, 'h2'), at(2, 'h1', 9), at(3), at(2), at(3, 'h1', 1, 'other message')],
      dedupe({ report }),
    )
    t.same(
      (out as LogEntry[]).map((e) => `${e.hostname}/${e.pid}/${e.seq}`),
      ['h1/1/1', 'h1/1/2', 'h2/1/2', 'h1/9/2', 'h1/1/3'],
      'another host or pid is another entry; the same triple is the same entry whatever its message',
    )
    t.same(
      seen.map((d) => [d.code, d.count, d.details]),
      [['dropped', 3, { reason: 'duplicate' }]],
      'what it removed is reported once, on completion, with its count',
    )
  },
)

t.test(
  'a pid that comes back on the same host (a restarted container) is a new process, not a repeat',
  async (t) => {
    const { report, seen } = recorder()
    // The second process: pid 1 and seq 1, 2 again, logged later (its time's high half differs too).
    const later = T0 + 10_000_000_000n
    const restarted = [at(1, 'h1', 1, 'up again', later + 1000n), at(2, 'h1', 1, 'x', later + 2000n)]
    const plain = await run([at(1), at(2), ...restarted, at(2)], dedupe({ report }))
    t.same(
      (plain as LogEntry[]).map((e) => e.msg),
      ['s1', 's2', 'up again', 'x'],
      'both processes kept whole; only the copy of s2 dropped',
    )
    t.equal(seen[0]?.count, 1, 'one removed')
    const bytes = await run([batchOf([at(1), at(2)]), batchOf([...restarted, at(1)])])
    t.same(
      (bytes as EntryBatch[]).flatMap((b) => b.entries().map((e) => e.msg)),
      ['s1', 's2', 'up again', 'x'],
      'the same on batches still in bytes (the time read from the index)',
    )
  },
)

t.test('entries without a seq are never taken for duplicates', async (t) => {
  const out = await run([at(0), at(0), at(0)])
  t.equal(out.length, 3, 'all three kept')
})

t.test('the window is bounded by count: the oldest key is forgotten first', async (t) => {
  const out = await run([at(1), at(2), at(3), at(1), at(3)], dedupe({ maxEntries: 2 }))
  t.same(
    (out as LogEntry[]).map((e) => e.seq),
    [1, 2, 3, 1],
    'seq 1 was forgotten when seq 3 came (kept again), seq 3 was still remembered',
  )
})

t.test('the window is bounded by time, and removals are reported once per interval', (t) => {
  const e = testEntries({ a: { seq: 1, hostname: 'h' }, b: { seq: 2, hostname: 'h' } })
  const { report, seen } = recorder()
  marbles(t).run(({ cold, expectObservable, flush }) => {
    const source = cold('a b a 96ms b 100ms a|', e)
    const expected = '   a b - 96ms - 100ms a|'
    expectObservable(source.pipe(dedupe({ windowMs: 150, reportIntervalMs: 50, report }))).toBe(expected, e)
    flush()
    t.same(
      seen.map((d) => d.count),
      [1, 1],
      'the first repeat reported after its interval, the second after its own',
    )
  })
  t.end()
})

t.test('on batches of entries that are still bytes it drops the same rows, without decoding', async (t) => {
  const entries = [at(1), at(2), at(3), at(4)]
  const again = [at(3), at(4), at(5)]
  const { report, seen } = recorder()
  const out = await run([batchOf(entries), at(2), batchOf(again)], dedupe({ report }))
  t.equal(out.length, 2, 'the first batch, then a narrowed second; the plain repeat dropped')
  const [first, second] = out as EntryBatch[]
  t.ok(isEntryBatch(first) && first.length === 4, 'the first batch whole')
  t.ok(isEntryBatch(second), 'the second is still a batch')
  t.same(
    second?.entries().map((x) => x.seq),
    [5],
    'only its new row kept',
  )
  t.same(seen[0]?.count, 3, 'three removed')
  const all = await run([batchOf([at(1), at(2)]), batchOf([at(1), at(2)])])
  t.equal(all.length, 1, 'a batch of nothing but repeats is dropped whole')
})

t.test('use: dedupe in a manifest: registered, options validated', async (t) => {
  t.equal(coreOperators.dedupe, dedupeDefinition, 'a core operator by its name')
  t.same(validateOptions(dedupeDefinition, { maxEntries: 10, windowMs: 0 }), { maxEntries: 10, windowMs: 0 })
  t.throws(() => validateOptions(dedupeDefinition, { maxEntries: 0 }), { code: 'LOGKIT_ERR_OPTIONS_INVALID' })
  t.throws(
    () => dedupe({ maxEntries: 1.5 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'the plain function checks too',
  )
  t.throws(() => dedupe({ windowMs: -1 }), { code: 'LOGKIT_ERR_OPTIONS_INVALID' })
  const { report, seen } = recorder()
  const op = dedupeDefinition.create({}, { id: 'd', app: 'a', flushes: from([]), report })
  const out = await run([at(1), at(1)], op)
  t.equal(out.length, 1, 'the definition makes the operator')
  t.equal(seen.length, 1, 'reporting to the context')
})
