// A batch of entries that are still bytes: one EntryIndex over a range of
// frames (a chunk of a ring, of a pipe), and the rows of it that are in the
// batch, in order. Sources hand batches to the runtime; operators that look
// only at the header (level, app, source, rate) keep or drop rows without
// decoding anything; a sink that writes JSON copies the bytes
// (JsonRenderer.renderSelection); everything else gets LogEntry objects,
// decoded one by one (entry(k)), only where it asks.
//
// Acknowledgement positions: a batch takes `positions` consecutive positions
// of its source, one per row of its index from `firstRow` on (rows firstRow …
// firstRow + positions - 1), whether a row is in the batch or not (a
// duplicate, an invalid entry, an entry an operator dropped). The runtime
// sets `ack` to the last of them; row r's position is
// ack.position - positions + 1 + (r - firstRow). A source counts a batch's
// positions when it emits it, so its release points stay exact. One index
// may be handed over as several batches of consecutive row ranges.
//
// Size: a batch holds at most MAX_BATCH_ENTRIES entries. The runtime decodes
// a batch whole in front of an operator that takes entries, whatever the
// demand, so this bounds what a queue may receive beyond its capacity.
//
// Lifetime: the bytes belong to the source (a ring's memory, a reused chunk)
// and stay valid until the batch is acknowledged, not after. A sink must not
// keep a batch, or views of its bytes, past the write that took it; an
// operator that keeps entries must keep decoded LogEntry objects (the runtime
// unbatches in front of every operator that is not batch-aware).

import { decodeEntry } from '../codec.js'
import type { AckRef, LogEntry } from '../entry.js'
import { type EntryIndex, SPAN_ENTRY, SPAN_STRIDE } from './entry-index.js'

const BATCH_BRAND = Symbol.for('logkit.EntryBatch')

/** The most entries a source puts in one batch (see the header comment). */
export const MAX_BATCH_ENTRIES = 1024

export class EntryBatch {
  /** Rows of `index` in the batch, in order: rows[0 … length-1]. */
  readonly rows: Int32Array
  readonly length: number
  /** Set by the runtime: the position of the batch's last index row. */
  readonly ack: AckRef | undefined

  constructor(
    /** The entries' bytes and columns; read it, never change it. */
    readonly index: EntryIndex,
    rows: Int32Array,
    length: number = rows.length,
    /** The first index row the batch's positions count from; see the header comment. */
    readonly firstRow: number = 0,
    /** Positions the batch takes in its source (one per index row from firstRow). */
    readonly positions: number = index.entries - firstRow,
    ack?: AckRef,
  ) {
    this.rows = rows
    this.length = length
    this.ack = ack
  }

  get [BATCH_BRAND](): true {
    return true
  }

  /** A batch of every valid entry of `index`. */
  static of(index: EntryIndex): EntryBatch {
    const rows = new Int32Array(index.entries)
    let n = 0
    const valid = index.valid
    for (let i = 0; i < index.entries; i++) if (valid[i] !== 0) rows[n++] = i
    return new EntryBatch(index, rows, n)
  }

  /** The same rows, acknowledged as `ack` (the runtime's per-pipeline view of a shared batch). */
  withAck(ack: AckRef): EntryBatch {
    return new EntryBatch(this.index, this.rows, this.length, this.firstRow, this.positions, ack)
  }

  /** Another selection of the same index (rows of it, in order), acknowledged as this batch is. */
  withRows(rows: Int32Array, length: number = rows.length): EntryBatch {
    return new EntryBatch(this.index, rows, length, this.firstRow, this.positions, this.ack)
  }

  /** The index row of the batch's k-th entry. */
  row(k: number): number {
    return this.rows[k] as number
  }

  /** The batch's k-th entry, decoded (with the ack ref of its own position). */
  entry(k: number): LogEntry {
    const index = this.index
    const row = this.rows[k] as number
    const at = row * SPAN_STRIDE + SPAN_ENTRY
    const entry = decodeEntry(index.buf, index.spans[at] as number, index.spans[at + 1] as number)
    const ack = this.ack
    if (ack !== undefined) {
      ;(entry as { ack?: AckRef }).ack = {
        stream: ack.stream,
        position: ack.position - this.positions + 1 + (row - this.firstRow),
      }
    }
    return entry
  }

  /** Every entry of the batch, decoded. */
  entries(): LogEntry[] {
    const out = new Array<LogEntry>(this.length)
    for (let k = 0; k < this.length; k++) out[k] = this.entry(k)
    return out
  }
}

/** True when `value` is an EntryBatch (of this or another copy of @logkit/core). */
export function isEntryBatch(value: unknown): value is EntryBatch {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as { [BATCH_BRAND]?: unknown })[BATCH_BRAND] === true
  )
}
