// End-to-end acknowledgement for one source. Positions count the entries the
// source emitted (1, 2, …). An entry is done when every sink it was queued to
// has written it (or dropped it by policy, counted), or when the operators
// consumed it (filtered, rate-limited, folded into a summary).
//
// Operators are order-preserving, so this needs no per-entry table:
//   passed      every position ≤ passed has left the operator chain (emitted or consumed)
//   queued[k]   the highest position queued to sink k
//   finished[k] the highest position sink k has finished with
// Sink queues are FIFO, so sink k holds nothing at or below finished[k], and
// holds nothing at all once finished[k] = queued[k]. The source is done up to
//   min(passed, finished[k] for every sink k still holding something).

import type { AckRef, AckStreamLike } from '../entry.js'

export class AckStream implements AckStreamLike {
  issued = 0
  passed = 0
  done = 0
  readonly queued: number[]
  readonly finished: number[]
  readonly #listeners: ((position: number) => void)[] = []

  constructor(
    readonly id: string,
    sinkCount: number,
  ) {
    this.queued = new Array<number>(sinkCount).fill(0)
    this.finished = new Array<number>(sinkCount).fill(0)
  }

  next(): AckRef {
    return { stream: this, position: ++this.issued }
  }

  /** Issues `n` positions at once (an EntryBatch's); the ref is the last of them. */
  take(n: number): AckRef {
    this.issued += n
    return { stream: this, position: this.issued }
  }

  onAck(listener: (position: number) => void): void {
    this.#listeners.push(listener)
  }

  watermark(): number {
    let w = this.passed
    for (let k = 0; k < this.queued.length; k++) {
      const finished = this.finished[k] as number
      if (finished < (this.queued[k] as number) && finished < w) w = finished
    }
    return w
  }

  /** Tell listeners when the watermark moved; returns true if it did. */
  settle(): boolean {
    const w = this.watermark()
    if (w <= this.done) return false
    this.done = w
    for (const listener of this.#listeners) listener(w)
    return true
  }
}

/** The AckStream of an entry's ack ref, when it belongs to this runtime. */
export function ackStreamOf(ref: AckRef | undefined): AckStream | undefined {
  return ref !== undefined && ref.stream instanceof AckStream ? ref.stream : undefined
}
