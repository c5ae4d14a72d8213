// What a chunk of pipe bytes needs to become a batch, kept for reuse: the
// EntryIndex over it (typed-array columns: making them for every read would
// cost more than indexing it) and, for a chunk that had to be joined to the
// tail of the read before it, the buffer it was joined in.
//
//   take ──▶ PipeChunk (held by the reader) ──▶ EntryBatch values (retain, one per batch)
//                 │ reader done (release)          │ each batch acknowledged (release)
//   give ◀──── refs = 0 ◀──────────────────────────┘
//
// A chunk's bytes and columns must not change while a batch of it is not
// acknowledged (EntryBatch's lifetime rule), so only a chunk no one holds
// goes back. The pool keeps a few of each, no more: memory stays flat, and
// whatever is not given back (a source torn down with batches in flight)
// is simply collected.
//
// An index costs about 100 bytes per row of capacity for as long as a batch
// of it is in flight, so it is sized by the chunk: about one row per 128
// bytes (a logger's entry is ~130 bytes framed), growing by itself when the
// entries are smaller. A pooled index is reused only for a chunk at least a
// quarter of its size: a quiet producer's one-entry reads, queued behind a
// slow sink, never each hold an index made for 64 KiB.

import { EntryIndex } from '@logkit/core/wire'

/** Size of a pooled buffer: a pipe read (64 KiB) and the tail before it, with room. */
export const JOIN_BUFFER_BYTES = 128 * 1024
/** Free indexes kept per capacity. */
const KEEP = 8
/** Free buffers kept: reads in flight are many more than joins. */
const KEEP_BUFFERS = 32
/** Bytes of chunk per index row asked for. */
const BYTES_PER_ROW = 128
const MIN_ROWS = 16
/** Largest capacity asked for; an index grows past it when a chunk needs it. */
const MAX_ROWS = 1024
/** Largest capacity kept in the pool. */
const KEEP_ROWS = 4 * MAX_ROWS

/** The capacity (a power of two, as EntryIndex grows by doubling) to index `bytes` of frames with. */
function rowsFor(bytes: number): number {
  let rows = MIN_ROWS
  while (rows < MAX_ROWS && rows * BYTES_PER_ROW < bytes) rows *= 2
  return rows
}

export class ChunkPool {
  readonly #maxFrameSize: number
  /** Free indexes by capacity. */
  readonly #indexes = new Map<number, EntryIndex[]>()
  readonly #buffers: Buffer[] = []

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize
  }

  /**
   * An index for `bytes` of frames, checking CRCs and refusing frames over
   * maxFrameSize as the pipe's reader always did.
   */
  takeIndex(bytes: number): EntryIndex {
    const rows = rowsFor(bytes)
    for (let c = rows; c <= 4 * rows; c *= 2) {
      const index = this.#indexes.get(c)?.pop()
      if (index !== undefined) return index
    }
    return new EntryIndex({ checkCrc: true, maxFrameSize: this.#maxFrameSize, capacity: rows })
  }

  /** A buffer of at least `size` bytes (pooled when the size allows): for a join, or for a pipe read (JOIN_BUFFER_BYTES). */
  takeBuffer(size: number): Buffer {
    if (size > JOIN_BUFFER_BYTES) return Buffer.allocUnsafe(size)
    return this.#buffers.pop() ?? Buffer.allocUnsafe(JOIN_BUFFER_BYTES)
  }

  /** A buffer nothing points into any more (a read whose bytes were copied): kept when pooled-sized. */
  giveBuffer(buffer: Buffer): void {
    if (buffer.length === JOIN_BUFFER_BYTES && this.#buffers.length < KEEP_BUFFERS) this.#buffers.push(buffer)
  }

  give(index: EntryIndex, buffer: Buffer | undefined): void {
    // The index must not keep the bytes alive while it waits here.
    index.release()
    const rows = index.valid.length
    if (rows <= KEEP_ROWS) {
      const free = this.#indexes.get(rows) ?? []
      if (free.length === 0) this.#indexes.set(rows, free)
      if (free.length < KEEP) free.push(index)
    }
    if (buffer !== undefined) this.giveBuffer(buffer)
  }
}

/**
 * One indexed chunk of a pipe's bytes and who holds it: the reader while it
 * goes through the frames (from the start), and each batch of it handed out.
 */
export class PipeChunk {
  #refs = 1

  constructor(
    readonly index: EntryIndex,
    /** The pooled buffer the bytes are in, if the pool gave it (else a read's own buffer). */
    readonly buffer: Buffer | undefined,
    readonly pool: ChunkPool,
  ) {}

  /** A batch of it is handed out. */
  retain(): void {
    this.#refs++
  }

  /** The reader, or a batch once acknowledged, is done with it; the last one gives it back. */
  release(): void {
    if (--this.#refs === 0) this.pool.give(this.index, this.buffer)
  }
}
