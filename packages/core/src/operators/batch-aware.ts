// The shape of the core operators that take EntryBatch values (the
// collector's entries that are still bytes, wire/entry-batch.ts) as well as
// LogEntry values: each item is kept, dropped or narrowed as it comes, in
// order, and a batch becomes a selection of rows of the same index
// (batch.withRows) or nothing. Dropping rows needs no acknowledgement work:
// a batch's ack covers every row of its index, kept or not.

import { filter, type MonoTypeOperatorFunction, map } from 'rxjs'
import type { LogEntry } from '../entry.js'
import type { EntryBatch } from '../wire/entry-batch.js'
import { markTakesBatches } from './holds.js'

/** What a batch-aware operator is given and emits. */
export type EntryItem = LogEntry | EntryBatch

/**
 * `operator` branded with markTakesBatches, typed as the entry operator it
 * also is: given only entries it emits only entries (its batches come from
 * batches it was given).
 */
export function takingBatches(
  operator: MonoTypeOperatorFunction<EntryItem>,
): MonoTypeOperatorFunction<LogEntry> {
  return markTakesBatches(operator) as unknown as MonoTypeOperatorFunction<LogEntry>
}

/**
 * Emits what `select` returns for each item, nothing when it returns
 * undefined. A throw from `select` errors the stream, as in rxjs `map`.
 */
export function selectEach(
  select: (item: EntryItem) => EntryItem | undefined,
): MonoTypeOperatorFunction<EntryItem> {
  return (source) =>
    source.pipe(
      map(select),
      filter((item): item is EntryItem => item !== undefined),
    )
}

/**
 * The rows an operator keeps of one batch at a time: written into a scratch
 * array reused from batch to batch, copied out once for a batch that is
 * narrowed (its only allocation), not at all for one kept whole or dropped.
 */
export class KeptRows {
  #rows = new Int32Array(256)

  /** Scratch room for the kept rows of a batch of `length` rows (its content is the caller's until the next call). */
  room(length: number): Int32Array {
    if (this.#rows.length < length) this.#rows = new Int32Array(Math.max(length, this.#rows.length * 2))
    return this.#rows
  }

  /**
   * The batch `batch` becomes when the first `n` rows of room() are kept:
   * itself when all are (kept rows are in order, so they are its rows),
   * undefined when none are.
   */
  selection(batch: EntryBatch, n: number): EntryBatch | undefined {
    if (n === batch.length) return batch
    return n === 0 ? undefined : batch.withRows(this.#rows.slice(0, n), n)
  }
}
