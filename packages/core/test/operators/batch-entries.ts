// Test helpers for the operators' byte path: entries whose app, source,
// message and fields come from small pools (so that conditions and keys both
// match and miss, awkward strings among them), written as real frames by the
// real writers, indexed into an EntryBatch; and the two streams an operator
// must treat alike — the batches (with plain entries between them, as
// diagnostics come), and the same entries decoded one by one, as unbatch
// hands them to an operator that takes only entries.

import { createEntry, type LogEntry } from '../../src/entry.js'
import { FrameEncoder } from '../../src/framing.js'
import { EntryBatch, isEntryBatch } from '../../src/wire/entry-batch.js'
import { EntryIndex } from '../../src/wire/entry-index.js'
import { randomJson, randomString } from '../helpers.js'
import { writerFrame } from '../wire-frames.js'

/** Longer than the 64 bytes a SpanMemo remembers. */
const LONG = 'α'.repeat(40)

export const APPS = ['shop', 'shop-eu', 'admin', '', '日本', `shop-${LONG}`, 'shop\u0000eu']
export const SOURCES = ['db.pool', 'db.query', 'http', 'cache', '', '✓.worker', `db.${LONG}`]
export const MESSAGES = [
  'GET /health 200',
  'GET /metrics',
  'user login',
  'order placed',
  'ORDER failed',
  'payment ✓ done',
  'é',
  '',
]

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)] as T
}

/** An entry from the pools, with a random string now and then (more distinct apps and sources than a memo holds). */
export function poolEntry(rnd: () => number, seq: number): LogEntry {
  const fields: Record<string, unknown> = {}
  if (rnd() < 0.8) {
    fields['req'] = {
      method: pick(rnd, ['GET', 'POST', 'post']),
      status: pick(rnd, [200, 404, 500, 503, '503', true]),
    }
  }
  if (rnd() < 0.7) fields['user'] = { id: pick(rnd, [7, '7', 8, null, { n: 1 }, 'ü']) }
  if (rnd() < 0.5) fields['ok'] = pick(rnd, [true, false, 'true'])
  if (rnd() < 0.3) fields[randomString(rnd, 4) || 'x'] = randomJson(rnd)
  return createEntry({
    time: BigInt(Math.floor(rnd() * 2 ** 31)) * 1_000_000_000n + BigInt(Math.floor(rnd() * 1e9)),
    level: pick(rnd, [10, 20, 30, 35, 40, 50, 60]),
    msg:
      rnd() < 0.2
        ? randomString(rnd, 30)
        : `${pick(rnd, MESSAGES)}${rnd() < 0.3 ? randomString(rnd, 5) : ''}`,
    app: rnd() < 0.05 ? randomString(rnd, 6) : pick(rnd, APPS),
    source: rnd() < 0.05 ? randomString(rnd, 6) : pick(rnd, SOURCES),
    pid: Math.floor(rnd() * 4_000_000),
    hostname: randomString(rnd, 6),
    seq,
    fields,
  })
}

/** The entries as frames of every real writer: single-entry batches, batches of up to 5, the logger's writer. */
export function framesOf(rnd: () => number, entries: readonly LogEntry[]): Buffer {
  const encoder = new FrameEncoder({ maxFrameSize: 16 * 1024 * 1024 })
  const parts: Buffer[] = []
  for (let i = 0; i < entries.length; ) {
    const kind = rnd()
    if (kind < 0.4) parts.push(Buffer.from(encoder.entry(entries[i++] as LogEntry)))
    else if (kind < 0.7) {
      const n = Math.min(entries.length - i, 1 + Math.floor(rnd() * 5))
      parts.push(Buffer.from(encoder.batch(entries.slice(i, i + n))))
      i += n
    } else parts.push(writerFrame(entries[i++] as LogEntry))
  }
  return Buffer.concat(parts)
}

/** A batch of every entry of the frames in `buf`. */
/** 2,000 entries of the common case: two apps and three sources, the same on row after row, and one batch of them. */
export function repeatingBatch(rnd: () => number): { entries: LogEntry[]; batch: EntryBatch } {
  const entries = Array.from({ length: 2000 }, (_, i) => ({
    ...poolEntry(rnd, i + 1),
    app: i % 2 === 0 ? 'shop' : 'admin',
    source: ['db.pool', 'http', 'cache'][i % 3] as string,
  }))
  return { entries, batch: batchOf(framesOf(rnd, entries)) }
}

export function batchOf(buf: Buffer): EntryBatch {
  const index = new EntryIndex({ capacity: 64 })
  index.index(buf)
  if (index.stop !== 'end' || index.invalidEntries > 0) throw new Error(`frames did not index: ${index.stop}`)
  return EntryBatch.of(index)
}

/** A batch of `count` pool entries (seq from 1) in real frames. */
export function poolBatch(rnd: () => number, count: number): EntryBatch {
  return batchOf(
    framesOf(
      rnd,
      Array.from({ length: count }, (_, i) => poolEntry(rnd, i + 1)),
    ),
  )
}

/**
 * `whole` cut into batches of 1 to 300 rows, some of them a scattered
 * selection of the rows (as an earlier operator leaves a batch), with plain
 * entries now and then between them (seq from 1,000,000, as diagnostics
 * come). Every row of `whole` is in exactly one batch, in order.
 */
export function itemsOf(rnd: () => number, whole: EntryBatch): (LogEntry | EntryBatch)[] {
  const items: (LogEntry | EntryBatch)[] = []
  let plain = 1_000_000
  for (let k = 0; k < whole.length; ) {
    if (rnd() < 0.15) {
      items.push(
        createEntry({ level: 40, app: pick(rnd, APPS), source: 'logkit', msg: 'a diagnostic', seq: plain++ }),
      )
    }
    const n = Math.min(whole.length - k, 1 + Math.floor(rnd() ** 2 * 300))
    const rows = whole.rows.slice(k, k + n)
    k += n
    if (rnd() < 0.2 && n > 1) {
      // Every other row here, the rest in a batch of their own after it: a scattered selection.
      const even = rows.filter((_, i) => i % 2 === 0)
      const odd = rows.filter((_, i) => i % 2 === 1)
      items.push(whole.withRows(even))
      items.push(whole.withRows(odd))
    } else items.push(whole.withRows(rows))
  }
  return items
}

/** The same stream as an operator that takes only entries sees it: every batch decoded, entry by entry. */
export function decodedItems(items: readonly (LogEntry | EntryBatch)[]): LogEntry[] {
  return items.flatMap((item) => (isEntryBatch(item) ? item.entries() : [item]))
}

/**
 * What came out, entry by entry, as [seq, msg]; every batch must be a
 * selection of `index` (else the entry is marked so that the comparison fails).
 */
export function seqAndMsg(out: readonly unknown[], index: EntryIndex): [number, string][] {
  const list: [number, string][] = []
  for (const item of out) {
    if (!isEntryBatch(item)) {
      const entry = item as LogEntry
      list.push([entry.seq, entry.msg])
      continue
    }
    if (item.index !== index) list.push([-1, 'a batch of another index'])
    for (const entry of item.entries()) list.push([entry.seq, entry.msg])
  }
  return list
}

export interface DecodingSpy {
  /** index.text() calls by SPAN_* slot. */
  readonly text: Map<number, number>
  /** Entries of the index decoded (EntryBatch#entry). */
  entries(): number
  restore(): void
}

/** Counts what is decoded of `batch`'s index from now on, until restore(). */
export function spyOnDecoding(batch: EntryBatch): DecodingSpy {
  const index = batch.index
  const text = new Map<number, number>()
  const original = index.text.bind(index)
  index.text = (row: number, slot: number) => {
    text.set(slot, (text.get(slot) ?? 0) + 1)
    return original(row, slot)
  }
  let entries = 0
  const proto = EntryBatch.prototype
  const entry = proto.entry
  // Every batch of this index (withRows makes new ones) shares the prototype: count through it.
  proto.entry = function (this: EntryBatch, k: number): LogEntry {
    if (this.index === index) entries++
    return entry.call(this, k)
  }
  return {
    text,
    entries: () => entries,
    restore: () => {
      proto.entry = entry
      // The own property shadowed the prototype's method.
      delete (index as { text?: unknown }).text
    },
  }
}
