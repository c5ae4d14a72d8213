// A ring's drop counts, total and by reason, reported exactly once across
// collector restarts.
//
// The producer tells its drops two ways: its logger announces them in its
// frames (a batch carries the drops since the previous one, a goodbye the
// totals; both name two reasons apart: too large, unserializable), and its
// transport counts the ring-full ones in the header's DROPPED slot at once.
// All are totals of one producer that only grow, so what the collectors owe
// is max(announced, too large + unserializable + DROPPED) minus what some
// collector already reported, and each named reason likewise. Collector-owned
// header slots make that survive a restart:
//
//   DROPS_ANNOUNCED*  drops announced by the frames before READ (stored after READ)
//   DROPS_REPORTED*   drops reported so far, by this collector or an earlier one
//
// A restarted collector re-reads from HEAD: the frames between HEAD and the
// READ it finds were counted already, so their announcements are skipped.
// (If a collector dies between storing READ and DROPS_ANNOUNCED, the
// announcements in between are missed rather than counted twice; the header's
// DROPPED and the goodbye's totals still bring the count up to what was dropped.)

import { CAPABILITY_DROP_REASONS, type Drops, type Frame, type Hello } from '@logkit/core/producer'
import {
  DROP_REASONS_INDEX,
  DROP_REASONS_NOT_SAID,
  DROP_REASONS_SAID,
  DROPS_ANNOUNCED_INDEX,
  DROPS_ANNOUNCED_TOO_LARGE_INDEX,
  DROPS_ANNOUNCED_UNSERIALIZABLE_INDEX,
  DROPS_REPORTED_INDEX,
  DROPS_REPORTED_TOO_LARGE_INDEX,
  DROPS_REPORTED_UNSERIALIZABLE_INDEX,
} from './layout.js'
import type { Ring } from './ring.js'

export class DropLedger {
  /** Drops announced by the frames read so far, total and by reason. */
  #announced: number
  #tooLarge: number
  #unserializable: number
  /** Frames that start before this position (counted from #from) were counted by an earlier collector. */
  readonly #from: number
  readonly #countedUntil: number

  constructor(readonly ring: Ring) {
    const header = ring.header
    this.#announced = Atomics.load(header, DROPS_ANNOUNCED_INDEX) >>> 0
    this.#tooLarge = Atomics.load(header, DROPS_ANNOUNCED_TOO_LARGE_INDEX) >>> 0
    this.#unserializable = Atomics.load(header, DROPS_ANNOUNCED_UNSERIALIZABLE_INDEX) >>> 0
    this.#from = ring.head
    this.#countedUntil = ring.distance(ring.head, ring.read)
  }

  /** Takes the drops a frame that starts at position p announces. */
  frame(frame: Frame, p: number): void {
    if (frame.type === 'batch') this.batch(frame, p)
    else if (frame.type === 'goodbye' && !this.#counted(p)) {
      // A goodbye's counts are totals.
      this.#announced = Math.max(this.#announced, frame.dropped)
      this.#tooLarge = Math.max(this.#tooLarge, frame.droppedTooLarge)
      this.#unserializable = Math.max(this.#unserializable, frame.droppedUnserializable)
    }
  }

  /** Takes the drops a batch frame that starts at position p announces (the byte path's frame()). */
  batch(drops: Drops, p: number): void {
    if (drops.dropped === 0 || this.#counted(p)) return
    this.#announced += drops.dropped
    this.#tooLarge += drops.droppedTooLarge
    this.#unserializable += drops.droppedUnserializable
  }

  /** The collector has published READ past the frames taken so far. */
  published(): void {
    const header = this.ring.header
    Atomics.store(header, DROPS_ANNOUNCED_INDEX, this.#announced | 0)
    Atomics.store(header, DROPS_ANNOUNCED_TOO_LARGE_INDEX, this.#tooLarge | 0)
    Atomics.store(header, DROPS_ANNOUNCED_UNSERIALIZABLE_INDEX, this.#unserializable | 0)
  }

  /**
   * Drops no collector has reported yet, total and by reason; they count as
   * reported from now on. DROPPED counts only full-ring drops, and at once:
   * the total is at least the announced reasons plus those. A reason is
   * reported only within the total owed (slots that disagree, e.g. left by
   * an older collector, never make a reason larger than the report).
   */
  take(): Drops {
    const header = this.ring.header
    const total = Math.max(this.#announced, this.#tooLarge + this.#unserializable + this.ring.dropped)
    const dropped = owe(header, DROPS_REPORTED_INDEX, total, total)
    const droppedTooLarge = owe(header, DROPS_REPORTED_TOO_LARGE_INDEX, this.#tooLarge, dropped)
    const droppedUnserializable = owe(
      header,
      DROPS_REPORTED_UNSERIALIZABLE_INDEX,
      this.#unserializable,
      dropped - droppedTooLarge,
    )
    return { dropped, droppedTooLarge, droppedUnserializable }
  }

  /**
   * Whether the producer counts its drops by reason: its hello says, when
   * this collector read it (and the ring keeps the answer for the next
   * one); otherwise what an earlier collector kept; with neither, the
   * producer is taken to be of this version.
   */
  reasonsKnown(hello: Hello | undefined): boolean {
    const header = this.ring.header
    if (hello !== undefined) {
      const said = hello.capabilities.includes(CAPABILITY_DROP_REASONS)
      Atomics.store(header, DROP_REASONS_INDEX, said ? DROP_REASONS_SAID : DROP_REASONS_NOT_SAID)
      return said
    }
    return Atomics.load(header, DROP_REASONS_INDEX) !== DROP_REASONS_NOT_SAID
  }

  #counted(p: number): boolean {
    return this.ring.distance(this.#from, p) < this.#countedUntil
  }
}

/**
 * What `total` exceeds the header's reported count at `slot` by, at most
 * `limit`; the slot goes up by what is returned.
 */
function owe(header: Int32Array, slot: number, total: number, limit: number): number {
  const reported = Atomics.load(header, slot) >>> 0
  const owed = Math.min(total - reported, limit)
  if (owed <= 0) return 0
  Atomics.store(header, slot, (reported + owed) | 0)
  return owed
}
