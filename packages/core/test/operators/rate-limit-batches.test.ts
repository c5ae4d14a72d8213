// rateLimit on the collector's byte path: for batches of entries that are
// still bytes it must admit exactly the rows whose decoded entries the entry
// path admits (the same buckets, in the same order, in virtual time), emit
// the same summaries at the same points between them, and decode only what
// its key needs.

import {
  from,
  type MonoTypeOperatorFunction,
  Observable,
  type SchedulerLike,
  Subscription,
  toArray,
} from 'rxjs'
import t from 'tap'
import type { Diagnostic } from '../../src/diagnostics.js'
import type { LogEntry } from '../../src/entry.js'
import { takesBatches } from '../../src/operators/holds.js'
import { type RateLimitKey, type RateLimitOptions, rateLimit } from '../../src/operators/rate-limit.js'
import { unbatch } from '../../src/runtime/unbatch.js'
import { marbles, normalizeForCompare } from '../../src/testing/marbles.js'
import { type EntryBatch, isEntryBatch } from '../../src/wire/entry-batch.js'
import {
  SPAN_APP,
  SPAN_ENTRY,
  SPAN_FIELDS,
  SPAN_MESSAGE,
  SPAN_SOURCE,
  SPAN_STRIDE,
} from '../../src/wire/entry-index.js'
import { random } from '../helpers.js'
import {
  batchOf,
  framesOf,
  itemsOf,
  poolBatch,
  poolEntry,
  repeatingBatch,
  seqAndMsg,
  spyOnDecoding,
} from './batch-entries.js'

type Item = LogEntry | EntryBatch

interface Step {
  readonly at: number
  readonly item: Item
}

/** Emits each step's item at its virtual time (steps at the same time in order), then completes or fails at `end`. */
function timeline(
  scheduler: SchedulerLike,
  steps: readonly Step[],
  end: number,
  fail: boolean,
): Observable<Item> {
  return new Observable<Item>((subscriber) => {
    const scheduled = new Subscription()
    for (const { at, item } of steps) scheduled.add(scheduler.schedule(() => subscriber.next(item), at))
    scheduled.add(
      scheduler.schedule(
        () => (fail ? subscriber.error(new Error('source failed')) : subscriber.complete()),
        end,
      ),
    )
    return scheduled
  })
}

/** What came out and when: entries as [at, seq, msg] (a batch's decoded), summaries whole, the end. */
function recording(scheduler: SchedulerLike, observable: Observable<unknown>): unknown[] {
  const out: unknown[] = []
  observable.subscribe({
    next: (item) => {
      const at = scheduler.now()
      if (isEntryBatch(item)) {
        for (const entry of item.entries()) out.push([at, entry.seq, entry.msg])
        return
      }
      const entry = item as LogEntry
      out.push(entry.seq === 0 ? [at, 'summary', normalizeForCompare(entry)] : [at, entry.seq, entry.msg])
    },
    error: () => out.push([scheduler.now(), 'error']),
    complete: () => out.push([scheduler.now(), 'complete']),
  })
  return out
}

const KEYS: readonly [string, RateLimitKey | undefined][] = [
  ['none', undefined],
  ['source', 'source'],
  ['app', 'app'],
  ['level', 'level'],
  ['a field', 'fields.user.id'],
  ['an object field', 'fields.req'],
  ['a function', (entry) => entry.msg.slice(0, 3)],
  [
    'a function that throws for some entries',
    (entry) => {
      if (entry.msg.includes('login')) throw new Error('no key for a login')
      return entry.source
    },
  ],
]

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)] as T
}

t.test(
  'rateLimit admits the rows of batches whose entries it admits, with the same summaries at the same points',
  (t) => {
    const rnd = random(424242)
    const whole = poolBatch(rnd, 3000)
    const items = itemsOf(rnd, whole)
    let summariesBetween = 0
    let combinations = 0
    for (const [name, key] of KEYS) {
      for (let c = 0; c < 20; c++) {
        combinations++
        const perSecond = pick(rnd, [0.5, 1, 5, 50, 1000])
        const options = {
          perSecond,
          // The burst defaults to perSecond, and must be at least 1.
          burst: pick(rnd, perSecond < 1 ? [1, 3, 25] : [undefined, 1, 3, 25]),
          key,
          maxKeys: pick(rnd, [undefined, 1, 2, 3]),
          summaryIntervalMs: pick(rnd, [undefined, 100, 250, 1000]),
        }
        let at = 0
        const steps = items.map((item) => {
          at += pick(rnd, [0, 0, 1, 5, 50, 200, 700, 1500])
          return { at, item }
        })
        const fail = rnd() < 0.2
        const end = at + pick(rnd, [0, 10, 3000])
        const scheduler = marbles(t)
        let entriesOut: unknown[] = []
        let batchesOut: unknown[] = []
        const reports = { entries: [] as unknown[], batches: [] as unknown[] }
        const reporter = (into: unknown[]) => (d: Omit<Diagnostic, 'stage' | 'component'>) =>
          into.push([scheduler.now(), d.code, d.count, d.details])
        scheduler.run(() => {
          const source = timeline(scheduler, steps, end, fail)
          const limit = (report: (d: Omit<Diagnostic, 'stage' | 'component'>) => void) =>
            rateLimit({
              ...options,
              scheduler,
              report,
            } as RateLimitOptions) as unknown as MonoTypeOperatorFunction<Item>
          // The entry path as the runtime builds it: unbatch in front of an operator that takes only entries.
          entriesOut = recording(
            scheduler,
            source.pipe(
              unbatch(() => {}),
              limit(reporter(reports.entries)),
            ),
          )
          batchesOut = recording(scheduler, source.pipe(limit(reporter(reports.batches))))
        })
        const about = `key ${name}, ${JSON.stringify({ ...options, key: undefined })}, ${fail ? 'failing' : 'completing'}`
        t.same(batchesOut, entriesOut, `the same entries and summaries at the same times: ${about}`)
        t.same(reports.batches, reports.entries, `the same diagnostics at the same times: ${about}`)
        const lastEntry = entriesOut.findLastIndex((o) => typeof (o as unknown[])[1] === 'number')
        if (entriesOut.slice(0, lastEntry).some((o) => (o as unknown[])[1] === 'summary')) summariesBetween++
      }
    }
    t.ok(
      summariesBetween > combinations / 4,
      `summaries come out between entries in many runs (${summariesBetween})`,
    )
    t.end()
  },
)

t.test('rateLimit keys by source, app and level from the bytes, without decoding a string per row', (t) => {
  const rnd = random(5)
  const { entries, batch } = repeatingBatch(rnd)
  const spy = spyOnDecoding(batch)
  t.teardown(() => spy.restore())
  /** What comes out of the batch, and how many of its entries the operator decoded. */
  const limit = (key?: RateLimitKey): { out: unknown[]; decoded: number } => {
    spy.text.clear()
    const before = spy.entries()
    let out: unknown[] = []
    from([batch as unknown as LogEntry])
      .pipe(rateLimit({ perSecond: 1, burst: 10, key }), toArray())
      .subscribe((all) => {
        out = all
      })
    return { out, decoded: spy.entries() - before }
  }

  const bySource = limit('source')
  t.equal(bySource.decoded, 0, 'keyed by source, no entry is decoded')
  t.equal(spy.text.get(SPAN_SOURCE), 3, 'each of the three sources is decoded once')
  t.equal(spy.text.get(SPAN_APP), 1, "the summary's app is decoded once for the batch")
  t.notOk(spy.text.has(SPAN_MESSAGE) || spy.text.has(SPAN_FIELDS), 'neither message nor fields is decoded')
  t.same(
    seqAndMsg(bySource.out, batch.index).map(([seq]) => seq),
    [...entries.slice(0, 30).map((e) => e.seq), 0],
    'ten of each source are admitted, then the summary',
  )

  t.equal(limit('level').decoded, 0, 'keyed by level, no entry is decoded')
  t.same([...spy.text.keys()], [SPAN_APP], "keyed by level, only the summary's app is decoded")

  t.equal(limit('app').decoded, 0, 'keyed by app, no entry is decoded')
  t.ok((spy.text.get(SPAN_APP) ?? 0) <= 3, 'keyed by app, each app is decoded once, and the summary app')

  t.equal(limit('fields.user.id').decoded, 0, 'keyed by a field, no entry is decoded')
  t.equal(spy.text.get(SPAN_FIELDS), 2000, 'keyed by a field, the fields of every row are decoded')
  t.notOk(spy.text.has(SPAN_MESSAGE), 'keyed by a field, the message is not')

  t.equal(limit((entry) => entry.source).decoded, 2000, 'keyed by a function, every entry is decoded for it')
  t.end()
})

t.test(
  'a row whose bytes no longer decode takes no token from a function key, as unbatch would skip it',
  (t) => {
    const rnd = random(9)
    const batch = batchOf(
      framesOf(
        rnd,
        [1, 2, 3, 4].map((seq) => ({ ...poolEntry(rnd, seq), source: 'db' })),
      ),
    )
    // A frame changed in shared memory after it was read: the entry's first tag now has wire type 7.
    batch.index.buf[batch.index.spans[SPAN_STRIDE + SPAN_ENTRY] as number] = 0x0f
    const corrupt: number[] = []
    const run = (path: 'entries' | 'batches'): { out: unknown[]; reported: string[] } => {
      const reported: string[] = []
      const limit = rateLimit({
        perSecond: 1,
        burst: 2,
        key: (entry) => entry.source,
        report: (d) => reported.push(d.code),
      }) as unknown as MonoTypeOperatorFunction<Item>
      const decode = unbatch((n) => corrupt.push(n))
      let out: unknown[] = []
      from([batch as Item])
        .pipe(
          path === 'entries'
            ? (source) => source.pipe(decode, limit)
            : (source) => source.pipe(limit, decode),
        )
        .pipe(toArray())
        .subscribe((all) => {
          out = all
        })
      return { out, reported }
    }
    const entryPath = run('entries')
    const batchPath = run('batches')
    const seqs = (out: unknown[]) => out.map((e) => (e as LogEntry).seq)
    t.same(
      seqs(entryPath.out),
      [1, 3, 0],
      'the entry path never sees entry 2: 1 and 3 admitted, 4 dropped, a summary',
    )
    t.same(
      seqs(batchPath.out),
      seqs(entryPath.out),
      'the batch path admits the same, entry 2 left for unbatch to skip',
    )
    t.same(corrupt, [1, 1], 'unbatch counts the entry that no longer decodes, on each path')
    t.same(batchPath.reported, entryPath.reported, 'no key is reported as failed for it: only the drop')
    t.same(entryPath.reported, ['dropped'], 'the entry path reports the drop')
    t.end()
  },
)

t.test('rateLimit is branded as taking batches', (t) => {
  t.ok(takesBatches(rateLimit({ perSecond: 1 })), 'the runtime may hand it batches')
  t.end()
})
