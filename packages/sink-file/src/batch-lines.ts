// JSON lines of EntryBatches (entries that are still bytes), rendered by
// copying their bytes with core's JsonRenderer, and handed out the way
// JsonLineWriter hands out its own: take() gives the bytes rendered since the
// last take(), which are never written again, so a writer (sonic-boom) may
// hold them as long as it likes. Nothing here points into a batch's bytes
// once a line is rendered: a batch's bytes may be reused by their producer as
// soon as the write that took them settles.
//
//   renderer.out:  [ taken … (sonic-boom may still hold them) | pending: base … pos | room ]
//
// The renderer's buffer is reset only by rewind(), which its caller calls
// when no writer holds any bytes it took. When the next line does not fit in
// the room left, the pending bytes move to the start of a new buffer (the
// taken ones stay where they are, with whoever holds them), as in
// JsonLineWriter: a batch is handed to the file whole, however large.

import { type EntryBatch, JsonRenderer } from '@logkit/core/wire'

export class BatchLines {
  readonly #renderer: JsonRenderer
  readonly #size: number
  /** The bytes rendered since the last take() are renderer.out[base, renderer.pos). */
  #base = 0

  constructor(size: number) {
    this.#size = size
    this.#renderer = new JsonRenderer({ size })
  }

  /** Where the next line goes. */
  get pos(): number {
    return this.#renderer.pos
  }

  /** Bytes rendered since the last take(). */
  get pending(): number {
    return this.#renderer.pos - this.#base
  }

  /** Entries rendered so far whose fields were not one JSON object (see JsonRenderer). */
  get invalidFields(): number {
    return this.#renderer.invalidFields
  }

  /** Forgets what was rendered since the last take(). */
  discard(): void {
    this.#renderer.pos = this.#base
  }

  /** As JsonLineWriter#rewind: the next lines from the buffer's start, when nothing is pending and no writer holds taken bytes. */
  rewind(): void {
    if (this.#renderer.pos === this.#base) this.#renderer.pos = this.#base = 0
  }

  /** Renders entry k of `batch` as its JSON line and newline (an entry its index marked invalid: nothing). */
  line(batch: EntryBatch, k: number): void {
    const renderer = this.#renderer
    const index = batch.index
    const rows = batch.rows
    while (renderer.renderSelection(index, rows, k, k + 1) === k) this.#renew()
  }

  /** Renders every entry of `batch`, as line() for each would, with as few calls into the renderer as fit. */
  all(batch: EntryBatch): void {
    const renderer = this.#renderer
    const index = batch.index
    const rows = batch.rows
    const n = batch.length
    let k = 0
    while (k < n) {
      k = renderer.renderSelection(index, rows, k, n)
      if (k < n) this.#renew()
    }
  }

  /**
   * The bytes from base to `upTo` (at most pos), to hand to a writer, which
   * may hold them as long as it likes; what follows upTo stays pending.
   */
  take(upTo: number = this.pos): Buffer {
    const out = this.#renderer.out.subarray(this.#base, upTo)
    this.#base = upTo
    return out
  }

  /**
   * A new buffer, the pending bytes moved to its start: the line that did
   * not fit is rendered there. Sized for what is pending and a batch like the
   * last; doubled when even a buffer of pending bytes only was too small
   * (the renderer itself grows an empty buffer for a line larger than it).
   */
  #renew(): void {
    const renderer = this.#renderer
    const pending = renderer.pos - this.#base
    const size = Math.max(this.#size, 2 * pending, this.#base === 0 ? 2 * renderer.out.length : 0)
    const next = Buffer.allocUnsafe(size)
    renderer.out.copy(next, 0, this.#base, renderer.pos)
    renderer.out = next
    renderer.pos = pending
    this.#base = 0
  }
}
