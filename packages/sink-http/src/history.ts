// The recent entries a browser gets first: a ring of the last `capacity`
// published entries, oldest overwritten first. Ids grow by one per published
// entry, so a Last-Event-ID older than the ring's first says how many were
// let go.

import type { ViewEntry } from './view-entry.js'

export class History {
  readonly #ring: (ViewEntry | undefined)[]
  #next = 0
  #size = 0

  constructor(readonly capacity: number) {
    this.#ring = new Array<ViewEntry | undefined>(capacity)
  }

  get size(): number {
    return this.#size
  }

  add(entry: ViewEntry): void {
    if (this.capacity === 0) return
    this.#ring[this.#next] = entry
    this.#next = (this.#next + 1) % this.capacity
    if (this.#size < this.capacity) this.#size++
  }

  /** The id of the oldest entry kept (undefined when empty). */
  get firstId(): number | undefined {
    return this.#at(0)?.id
  }

  /** Entries kept with an id above `after`, oldest first. */
  since(after: number): ViewEntry[] {
    const out: ViewEntry[] = []
    for (let k = 0; k < this.#size; k++) {
      const e = this.#at(k)
      if (e !== undefined && e.id > after) out.push(e)
    }
    return out
  }

  #at(k: number): ViewEntry | undefined {
    const start = (this.#next - this.#size + this.capacity) % this.capacity
    return this.#ring[(start + k) % this.capacity]
  }
}
