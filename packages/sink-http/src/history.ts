// The recent entries a browser gets first: a ring of the last `capacity`
// published items, oldest overwritten first. Entry ids grow by one per
// published entry, so a Last-Event-ID older than the ring's first entry says
// exactly how many entries were let go. A gap in the feed (tail --web: the
// control socket's losses) is an item of its own, with the id of the entry
// before it plus one half: it keeps its place, takes no entry id, and is told
// once to whoever replays past it. The last EVICTED_MARKERS gaps let go from
// the ring are remembered, so a resume from before them is told of them too.

import type { ViewEntry } from './view-entry.js'

const EVICTED_MARKERS = 256

export class History {
  readonly #ring: (ViewEntry | undefined)[]
  #next = 0
  #size = 0
  /** Gaps let go from the ring, oldest first (at most EVICTED_MARKERS). */
  readonly #evicted: { id: number; count: number }[] = []
  /** The highest id of a gap let go from #evicted too (its count is unknown to a resume from before it). */
  #forgottenId = 0

  constructor(readonly capacity: number) {
    this.#ring = new Array<ViewEntry | undefined>(capacity)
  }

  get size(): number {
    return this.#size
  }

  add(entry: ViewEntry): void {
    if (this.capacity === 0) {
      if (entry.missed !== undefined) this.#forget(entry)
      return
    }
    const old = this.#ring[this.#next]
    if (this.#size === this.capacity && old?.missed !== undefined) this.#forget(old)
    this.#ring[this.#next] = entry
    this.#next = (this.#next + 1) % this.capacity
    if (this.#size < this.capacity) this.#size++
  }

  /** The id of the oldest entry kept, or the one after a gap kept first (undefined when empty). */
  get firstId(): number | undefined {
    const first = this.#at(0)?.id
    return first === undefined ? undefined : Math.ceil(first)
  }

  /** Items kept with an id above `after`, oldest first. */
  since(after: number): ViewEntry[] {
    const out: ViewEntry[] = []
    for (let k = 0; k < this.#size; k++) {
      const e = this.#at(k)
      if (e !== undefined && e.id > after) out.push(e)
    }
    return out
  }

  /** Feed gaps let go from the ring after `after`: their sum, and whether older ones were forgotten. */
  gapsLetGo(after: number): { count: number; exact: boolean } {
    let count = 0
    for (const g of this.#evicted) if (g.id > after) count += g.count
    return { count, exact: this.#forgottenId <= after }
  }

  #forget(gap: ViewEntry): void {
    this.#evicted.push({ id: gap.id, count: gap.missed?.count ?? 0 })
    if (this.#evicted.length > EVICTED_MARKERS) this.#forgottenId = this.#evicted.shift()?.id ?? 0
  }

  #at(k: number): ViewEntry | undefined {
    const start = (this.#next - this.#size + this.capacity) % this.capacity
    return this.#ring[(start + k) % this.capacity]
  }
}
