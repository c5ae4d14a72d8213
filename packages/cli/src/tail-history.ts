// The entries `logkit tail` shows first: the last `size` entries the
// pipelines wrote, kept until a tail asks for them. Entries that came as
// bytes (EntryBatch) are kept as bytes, copied out of the batch (its bytes
// are its source's, and reused once the write settles) and decoded only when
// a tail asks, so a collector nobody tails decodes nothing: in a live run,
// where batches are small, decoding the last `size` rows of every batch
// decoded every entry.
//
//   runs (oldest first): [ entries | bytes ] [ bytes ] … — `size` entries in all at most
//   copies:  one buffer of `maxBytes`, written round:  [ run k+1 … | free | run j … run k ]
//                                                                   tail   head
//
// The copies go into one buffer of `maxBytes`, allocated at the first batch
// and written round like a ring: a run goes at the tail, or at the start when
// it does not fit before the end, and the oldest runs go while it would write
// over them. Nothing large is allocated per batch: a buffer per batch, freed
// a moment later, kept a busy collector's heap ~20 MiB larger (100,000
// entries/s). A run of bytes is one copy of the range from its first row's
// bytes to its last's (one call, whatever the rows): rows a filter dropped in
// between are copied too, which the byte bound accounts for; a run larger
// than the buffer keeps the newest rows that fit.

import type { LogEntry } from '@logkit/core'
import { decodeEntry, type EntryBatch, SPAN_ENTRY, SPAN_STRIDE } from '@logkit/core/wire'

/** Entries kept as they came, or as bytes: row k is copies[at + spans[2k], at + spans[2k + 1]). */
type Run =
  | { readonly entries: readonly LogEntry[]; first: number }
  | { readonly at: number; readonly length: number; readonly spans: Int32Array; first: number }

function countOf(run: Run): number {
  return ('entries' in run ? run.entries.length : run.spans.length / 2) - run.first
}

export class TailHistory {
  readonly size: number
  readonly #maxBytes: number
  #runs: Run[] = []
  #entries = 0
  #copies: Buffer | undefined
  /** The live copies are [head, tail) of the buffer, read round (head === tail: none, or a full buffer). */
  #head = 0
  #tail = 0
  #byteRuns = 0

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
    const from: number[] = []
    let wanted = this.size
    let b = batches.length
    while (b > 0 && wanted > 0) {
      const batch = batches[--b] as EntryBatch
      const take = Math.min(batch.length, wanted)
      from.push(batch.length - take)
      wanted -= take
    }
    // Oldest first: batches[b] from from[last], … the newest from from[0].
    for (let k = from.length - 1; k >= 0; k--) this.#copyRows(batches[b++] as EntryBatch, from[k] as number)
  }

  /** The entries kept, oldest first, decoded (one whose bytes no longer decode is left out). */
  entries(): LogEntry[] {
    const out: LogEntry[] = []
    const copies = this.#copies
    for (const run of this.#runs) {
      if ('entries' in run) {
        for (let k = run.first; k < run.entries.length; k++) out.push(run.entries[k] as LogEntry)
        continue
      }
      const { at, spans } = run
      for (let k = run.first; k < spans.length / 2; k++) {
        try {
          out.push(
            decodeEntry(copies as Buffer, at + (spans[2 * k] as number), at + (spans[2 * k + 1] as number)),
          )
        } catch {}
      }
    }
    return out
  }

  /** Rows from…length-1 of `batch` (those that fit in the buffer), their bytes copied in one piece. */
  #copyRows(batch: EntryBatch, from: number): void {
    const { index } = batch
    const spans = index.spans
    const startOf = (k: number) => spans[batch.row(k) * SPAN_STRIDE + SPAN_ENTRY] as number
    const end = spans[batch.row(batch.length - 1) * SPAN_STRIDE + SPAN_ENTRY + 1] as number
    let first = from
    while (first < batch.length && end - startOf(first) > this.#maxBytes) first++
    // Rows left out for size leave no gap: what is older goes too.
    if (first > from) while (this.#runs.length > 0) this.#shift()
    if (first === batch.length) return
    const start = startOf(first)
    const length = end - start
    const at = this.#place(length)
    this.#copies ??= Buffer.allocUnsafe(this.#maxBytes)
    index.buf.copy(this.#copies, at, start, end)
    const n = batch.length - first
    const relative = new Int32Array(2 * n)
    for (let k = 0; k < n; k++) {
      const row = batch.row(first + k) * SPAN_STRIDE + SPAN_ENTRY
      relative[2 * k] = (spans[row] as number) - start
      relative[2 * k + 1] = (spans[row + 1] as number) - start
    }
    this.#byteRuns++
    this.#push({ at, length, spans: relative, first: 0 })
  }

  /** Where `length` bytes (at most maxBytes) go: the oldest runs go while they are in the way. */
  #place(length: number): number {
    for (;;) {
      const at = this.#tail + length <= this.#maxBytes ? this.#tail : 0
      if (this.#byteRuns === 0 || this.#free(at, length)) {
        if (this.#byteRuns === 0) this.#head = at
        this.#tail = at + length
        return at
      }
      this.#shift()
    }
  }

  /** Whether [at, at + length) is clear of the live copies [head, tail), read round. */
  #free(at: number, length: number): boolean {
    const head = this.#head
    const tail = this.#tail
    if (head < tail) return at >= tail || at + length <= head
    // Live copies wrap (or fill the buffer: head === tail): free is [tail, head).
    return at >= tail && at + length <= head
  }

  #push(run: Run): void {
    this.#runs.push(run)
    this.#entries += countOf(run)
    this.#trim()
  }

  /** Drops the oldest run. */
  #shift(): void {
    const oldest = this.#runs.shift() as Run
    this.#entries -= countOf(oldest)
    if ('entries' in oldest) return
    this.#byteRuns--
    // The live copies now start at the next run of bytes.
    const next = this.#runs.find((run) => !('entries' in run))
    if (next !== undefined && 'at' in next) this.#head = next.at
  }

  /** Drops the oldest entries beyond `size`. */
  #trim(): void {
    while (this.#runs.length > 0 && this.#entries > this.size) {
      const oldest = this.#runs[0] as Run
      const count = countOf(oldest)
      if (this.#entries - count >= this.size) this.#shift()
      else {
        const drop = this.#entries - this.size
        oldest.first += drop
        this.#entries -= drop
      }
    }
  }
}
