// The entries `logkit tail` shows first: the last `size` entries the
// pipelines wrote, kept until a tail asks for them. Entries that came as
// bytes (EntryBatch) are kept as bytes, copied out of the batch (its bytes
// are its source's, and reused once the write settles) and decoded only when
// a tail asks, so a collector nobody tails decodes nothing: in a live run,
// where batches are small, decoding the last `size` rows of every batch
// decoded every entry.
//
//   runs (oldest first): [ entries | bytes ] [ bytes ] … — `size` entries in all at most,
//                        and `maxBytes` of copied bytes (the oldest runs go first)
//
// A run of bytes is one copy of the range from its first row's bytes to its
// last's (one call, whatever the rows): rows a filter dropped in between are
// copied too, which the byte bound accounts for.

import type { LogEntry } from '@logkit/core'
import { decodeEntry, type EntryBatch, SPAN_ENTRY, SPAN_STRIDE } from '@logkit/core/wire'

/** Entries kept as they came, or as bytes: `spans` holds each row's [start, end) in `bytes`. */
type Run =
  | { readonly entries: readonly LogEntry[]; first: number }
  | { readonly bytes: Buffer; readonly spans: Int32Array; first: number }

function countOf(run: Run): number {
  return ('entries' in run ? run.entries.length : run.spans.length / 2) - run.first
}

export class TailHistory {
  readonly size: number
  readonly #maxBytes: number
  #runs: Run[] = []
  #entries = 0
  #bytes = 0

  constructor(size: number, maxBytes: number) {
    this.size = size
    this.#maxBytes = maxBytes
  }

  /** Entries written as objects. */
  addEntries(entries: readonly LogEntry[]): void {
    if (this.size === 0 || entries.length === 0) return
    this.#push({ entries: entries.length > this.size ? entries.slice(-this.size) : entries, first: 0 })
  }

  /** Entries written as bytes: the last `size` of them are copied. */
  addBatches(batches: readonly EntryBatch[]): void {
    const runs: Run[] = []
    let wanted = this.size
    for (let b = batches.length - 1; b >= 0 && wanted > 0; b--) {
      const batch = batches[b] as EntryBatch
      const take = Math.min(batch.length, wanted)
      if (take > 0) runs.push(copyRows(batch, batch.length - take))
      wanted -= take
    }
    for (let r = runs.length - 1; r >= 0; r--) this.#push(runs[r] as Run)
  }

  /** The entries kept, oldest first, decoded (one whose bytes no longer decode is left out). */
  entries(): LogEntry[] {
    const out: LogEntry[] = []
    for (const run of this.#runs) {
      if ('entries' in run) {
        for (let k = run.first; k < run.entries.length; k++) out.push(run.entries[k] as LogEntry)
        continue
      }
      for (let k = run.first; k < run.spans.length / 2; k++) {
        try {
          out.push(decodeEntry(run.bytes, run.spans[2 * k] as number, run.spans[2 * k + 1] as number))
        } catch {}
      }
    }
    return out
  }

  #push(run: Run): void {
    this.#runs.push(run)
    this.#entries += countOf(run)
    if ('bytes' in run) this.#bytes += run.bytes.length
    this.#trim()
  }

  /** Drops the oldest entries beyond `size`, and the oldest runs of bytes beyond `maxBytes` (never the newest run). */
  #trim(): void {
    while (this.#runs.length > 0) {
      const oldest = this.#runs[0] as Run
      const count = countOf(oldest)
      const overBytes = this.#bytes > this.#maxBytes && this.#runs.length > 1
      if (this.#entries - count >= this.size || overBytes) {
        this.#runs.shift()
        this.#entries -= count
        if ('bytes' in oldest) this.#bytes -= oldest.bytes.length
      } else if (this.#entries > this.size) {
        const drop = this.#entries - this.size
        oldest.first += drop
        this.#entries -= drop
      } else return
    }
  }
}

/** Rows from…length-1 of `batch`, their bytes copied in one piece. */
function copyRows(batch: EntryBatch, from: number): Run {
  const { index } = batch
  const spans = index.spans
  const n = batch.length - from
  const start = spans[batch.row(from) * SPAN_STRIDE + SPAN_ENTRY] as number
  const end = spans[batch.row(batch.length - 1) * SPAN_STRIDE + SPAN_ENTRY + 1] as number
  const bytes = Buffer.allocUnsafe(end - start)
  index.buf.copy(bytes, 0, start, end)
  const relative = new Int32Array(2 * n)
  for (let k = 0; k < n; k++) {
    const at = batch.row(from + k) * SPAN_STRIDE + SPAN_ENTRY
    relative[2 * k] = (spans[at] as number) - start
    relative[2 * k + 1] = (spans[at + 1] as number) - start
  }
  return { bytes, spans: relative, first: 0 }
}
