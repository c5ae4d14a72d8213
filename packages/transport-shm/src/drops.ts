// A ring's drop count, reported exactly once across collector restarts.
//
// The producer tells its drops two ways: its logger announces them in its
// frames (a batch carries the drops since the previous one, a goodbye the
// total), and its transport counts the ring-full ones in the header's DROPPED
// slot at once. Both are totals of one producer that only grow, so what the
// collectors owe is max(announced, DROPPED) minus what some collector already
// reported. Two collector-owned header slots make that survive a restart:
//
//   DROPS_ANNOUNCED  drops announced by the frames before READ (stored after READ)
//   DROPS_REPORTED   drops reported so far, by this collector or an earlier one
//
// A restarted collector re-reads from HEAD: the frames between HEAD and the
// READ it finds were counted already, so their announcements are skipped.
// (If a collector dies between storing READ and DROPS_ANNOUNCED, the
// announcements in between are missed rather than counted twice; the header's
// DROPPED and the goodbye's total still bring the count up to what was dropped.)

import type { Frame } from '@logkit/core/producer'
import { DROPS_ANNOUNCED_INDEX, DROPS_REPORTED_INDEX } from './layout.js'
import type { Ring } from './ring.js'

export class DropLedger {
  /** Drops announced by the frames read so far, total. */
  #announced: number
  /** Frames that start before this position (counted from #from) were counted by an earlier collector. */
  readonly #from: number
  readonly #countedUntil: number

  constructor(readonly ring: Ring) {
    this.#announced = Atomics.load(ring.header, DROPS_ANNOUNCED_INDEX) >>> 0
    this.#from = ring.head
    this.#countedUntil = ring.distance(ring.head, ring.read)
  }

  /** Takes the drops a frame that starts at position p announces. */
  frame(frame: Frame, p: number): void {
    if (frame.type !== 'batch' && frame.type !== 'goodbye') return
    if (this.ring.distance(this.#from, p) < this.#countedUntil) return
    if (frame.type === 'batch') this.batch(frame.dropped, p)
    else this.#announced = Math.max(this.#announced, frame.dropped)
  }

  /** Takes the drops a batch frame that starts at position p announces (the byte path's frame()). */
  batch(dropped: number, p: number): void {
    if (dropped === 0 || this.ring.distance(this.#from, p) < this.#countedUntil) return
    this.#announced += dropped
  }

  /** The collector has published READ past the frames taken so far. */
  published(): void {
    Atomics.store(this.ring.header, DROPS_ANNOUNCED_INDEX, this.#announced | 0)
  }

  /** Drops no collector has reported yet; they count as reported from now on. */
  take(): number {
    const total = Math.max(this.#announced, this.ring.dropped)
    const reported = Atomics.load(this.ring.header, DROPS_REPORTED_INDEX) >>> 0
    if (total <= reported) return 0
    Atomics.store(this.ring.header, DROPS_REPORTED_INDEX, total | 0)
    return total - reported
  }
}
