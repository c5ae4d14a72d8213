// What a function makes of one string of an entry that is still bytes (its
// app, its source), remembered by the string's bytes. The operators that
// decide from a batch's header (filter, rateLimit) ask it for every row; in
// the common case, a few apps and sources repeated row after row, it answers
// by comparing bytes, without decoding or allocating anything.
//
// A remembered answer is the answer: the function depends on the string
// only, and the string on its bytes only (UTF-8, a bad sequence as U+FFFD,
// as the codec decodes it). The bytes are copied: a batch's bytes are
// reused once it is acknowledged, and the memo outlives it.

import { type EntryIndex, SPAN_STRIDE } from '../wire/entry-index.js'

/** Distinct strings remembered; a further one takes the place of the oldest. */
const SLOTS = 8
/** Longest string remembered, in bytes (as codec.ts interns); a longer one is decoded every time. */
const MAX_BYTES = 64

export class SpanMemo<T> {
  /** The SPAN_* slot of the string. */
  readonly #span: number
  readonly #of: (text: string) => T
  /** SLOTS strings of MAX_BYTES, one after the other; slot s holds #lengths[s] bytes. */
  readonly #bytes = new Uint8Array(SLOTS * MAX_BYTES)
  readonly #lengths = new Int32Array(SLOTS)
  readonly #values: T[] = []
  #count = 0
  /** The slot a new string takes once all are in use: the oldest. */
  #oldest = 0
  /** The slot that answered last, asked first. */
  #last = 0

  /**
   * @param span The SPAN_* slot of the string (SPAN_APP, SPAN_SOURCE).
   * @param of What to make of the string: a test, or the string itself.
   */
  constructor(span: number, of: (text: string) => T) {
    this.#span = span
    this.#of = of
  }

  /** What `of` makes of the string of row `row` of `index`. */
  get(index: EntryIndex, row: number): T {
    const at = row * SPAN_STRIDE + this.#span
    const start = index.spans[at] as number
    const length = (index.spans[at + 1] as number) - start
    const buf = index.buf
    if (this.#count > 0 && this.#holds(this.#last, buf, start, length)) return this.#values[this.#last] as T
    for (let s = 0; s < this.#count; s++) {
      if (s !== this.#last && this.#holds(s, buf, start, length)) {
        this.#last = s
        return this.#values[s] as T
      }
    }
    const value = this.#of(index.text(row, this.#span))
    if (length <= MAX_BYTES) this.#remember(buf, start, length, value)
    return value
  }

  /** True when slot s holds buf[start, start + length). */
  #holds(s: number, buf: Buffer, start: number, length: number): boolean {
    if (this.#lengths[s] !== length) return false
    const bytes = this.#bytes
    const base = s * MAX_BYTES
    for (let i = 0; i < length; i++) if (bytes[base + i] !== buf[start + i]) return false
    return true
  }

  #remember(buf: Buffer, start: number, length: number, value: T): void {
    let s: number
    if (this.#count < SLOTS) s = this.#count++
    else {
      s = this.#oldest
      this.#oldest = (s + 1) % SLOTS
    }
    const bytes = this.#bytes
    const base = s * MAX_BYTES
    for (let i = 0; i < length; i++) bytes[base + i] = buf[start + i] as number
    this.#lengths[s] = length
    this.#values[s] = value
    this.#last = s
  }
}
