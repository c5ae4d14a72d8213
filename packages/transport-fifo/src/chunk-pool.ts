// What a chunk of pipe bytes needs to become a batch, kept for reuse: the
// EntryIndex over it (its columns grow to the largest chunk seen, so making
// one per read would cost more than the read) and, for a chunk that had to be
// joined to the tail of the read before it, the buffer it was joined in.
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

import { EntryIndex } from '@logkit/core/wire'

/** Size of a pooled join buffer: a pipe read (64 KiB) and the tail before it, with room. */
export const JOIN_BUFFER_BYTES = 128 * 1024
/** Free indexes and free buffers kept, each. */
const KEEP = 8

export class ChunkPool {
  readonly #maxFrameSize: number
  readonly #indexes: EntryIndex[] = []
  readonly #buffers: Buffer[] = []

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize
  }

  /** An index that checks CRCs and refuses frames over maxFrameSize, as the pipe's reader always did. */
  takeIndex(): EntryIndex {
    return this.#indexes.pop() ?? new EntryIndex({ checkCrc: true, maxFrameSize: this.#maxFrameSize })
  }

  /** A buffer of at least `size` bytes (pooled when the size allows). */
  takeBuffer(size: number): Buffer {
    if (size > JOIN_BUFFER_BYTES) return Buffer.allocUnsafe(size)
    return this.#buffers.pop() ?? Buffer.allocUnsafe(JOIN_BUFFER_BYTES)
  }

  give(index: EntryIndex, buffer: Buffer | undefined): void {
    // The index must not keep the bytes alive while it waits here.
    index.release()
    if (this.#indexes.length < KEEP) this.#indexes.push(index)
    if (buffer !== undefined && buffer.length === JOIN_BUFFER_BYTES && this.#buffers.length < KEEP) {
      this.#buffers.push(buffer)
    }
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
