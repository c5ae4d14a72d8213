// The collector's view of one producer stream: it takes that producer's frames
// in order, learns who it is from its hello, checks sequence numbers, drops
// duplicates, and turns announced and unexplained losses into diagnostics.
// Every source (memory, shm, fifo) feeds its frames through one of these.

import { decodeFrame } from './codec.js'
import type { DiagnosticReporter } from './diagnostics.js'
import type { LogEntry } from './entry.js'
import type { Frame, Hello } from './frame.js'
import { FRAME_HEADER_SIZE } from './framing.js'
import { type EntryIndex, KIND_BATCH, KIND_NONE } from './wire/entry-index.js'

export interface ProducerStreamStats {
  entries: number
  /** Entries the producer said it dropped (full buffer or ring). */
  dropped: number
  /** Entries missing from the sequence with no drop announced for them. */
  lost: number
  /** Entries seen again (e.g. re-read after a collector restart) and skipped. */
  duplicates: number
  lastSeq: number
  /** When the last frame arrived (ms since epoch, for status). */
  lastSeen: number
}

export class ProducerStream {
  hello: Hello | undefined
  goodbye = false
  readonly stats: ProducerStreamStats = {
    entries: 0,
    dropped: 0,
    lost: 0,
    duplicates: 0,
    lastSeq: 0,
    lastSeen: 0,
  }
  readonly #report: DiagnosticReporter
  readonly #label: string

  constructor(report: DiagnosticReporter, label: string) {
    this.#report = report
    this.#label = label
  }

  /** Handle one frame; returns the entries to emit (in order, duplicates removed). */
  accept(frame: Frame): readonly LogEntry[] {
    this.stats.lastSeen = Date.now()
    switch (frame.type) {
      case 'hello':
        // A new hello is a new producer run: its sequence starts again.
        this.hello = frame
        this.goodbye = false
        this.stats.lastSeq = 0
        return []
      case 'batch':
        return this.#batch(frame.entries, frame.dropped)
      case 'goodbye': {
        this.goodbye = true
        // The goodbye carries the producer's total drops: those not yet
        // announced explain a missing tail.
        const unannounced = Math.max(0, frame.dropped - this.stats.dropped)
        if (unannounced > 0) this.#announce(unannounced, undefined)
        this.#checkGap(frame.lastSeq + 1, unannounced)
        return []
      }
      default:
        return []
    }
  }

  /**
   * The byte path's accept: handles frame f of `index` (a frame the index
   * did not mark malformed) as accept() handles its decoded frame, without
   * decoding a batch: the index rows of the entries to emit are written to
   * rows[n …]. Returns the new n. `now` (ms) is when the frame arrived: a
   * caller taking many frames at once reads the clock once for them.
   */
  acceptRows(index: EntryIndex, f: number, rows: Int32Array, n: number, now: number = Date.now()): number {
    const kind = index.frameKind[f]
    if (kind !== KIND_BATCH) {
      // Hello, heartbeat and goodbye are rare: decoded as they always were.
      if (kind !== KIND_NONE) {
        const start = (index.frameStart[f] as number) + FRAME_HEADER_SIZE
        this.accept(decodeFrame(index.buf, start, index.frameEnd[f] as number))
      } else this.stats.lastSeen = now
      return n
    }
    this.stats.lastSeen = now
    const first = index.frameFirstEntry[f] as number
    const end = first + (index.frameEntryCount[f] as number)
    let announced = index.frameDropped[f] as number
    if (announced > 0) this.#announce(announced, first < end ? index.pid[first] : undefined)
    let out = n
    for (let i = first; i < end; i++) {
      const seq = index.seq[i] as number
      if (seq !== 0) {
        if (seq <= this.stats.lastSeq) {
          this.stats.duplicates++
          continue
        }
        announced = this.#checkGap(seq, announced)
        this.stats.lastSeq = seq
      }
      rows[out++] = i
    }
    this.stats.entries += out - n
    return out
  }

  #batch(entries: LogEntry[], dropped: number): readonly LogEntry[] {
    let announced = dropped
    if (announced > 0) this.#announce(announced, entries[0]?.pid)
    let out: LogEntry[] | undefined
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as LogEntry
      const seq = entry.seq
      if (seq !== 0 && seq <= this.stats.lastSeq) {
        this.stats.duplicates++
        out ??= entries.slice(0, i)
        continue
      }
      if (seq !== 0) {
        announced = this.#checkGap(seq, announced)
        this.stats.lastSeq = seq
      }
      out?.push(entry)
    }
    const kept = out ?? entries
    this.stats.entries += kept.length
    return kept
  }

  #announce(count: number, pid: number | undefined): void {
    this.stats.dropped += count
    this.#report({
      code: 'dropped',
      stage: 'producer',
      // The frames say how many, not why: a full ring or buffer, an entry over
      // the producer's maxFrameSize, fields it could not serialize. The
      // producer's own process warning (LOGKIT_W_*) says which.
      message: `${this.#label} dropped ${count} entries before they reached the collector (a full ring or buffer, an entry too large, or fields that could not be serialized: the producer's warnings say which)`,
      count,
      details: { reason: 'dropped_by_producer', pid: this.hello?.pid ?? pid },
    })
  }

  /** Reports a gap before `seq` beyond the `announced` drops; returns the drops not yet matched. */
  #checkGap(seq: number, announced: number): number {
    const last = this.stats.lastSeq
    if (last === 0 && this.hello === undefined) return announced // joined mid-stream: nothing to compare with
    const missing = seq - last - 1
    if (missing <= 0) return announced
    const unexplained = missing - announced
    if (unexplained > 0) {
      this.stats.lost += unexplained
      this.#report({
        code: 'seq_gap',
        stage: 'producer',
        message: `${this.#label}: ${unexplained} entries missing between seq ${last} and ${seq}`,
        count: unexplained,
        details: { pid: this.hello?.pid, after: last, before: seq },
      })
      return 0
    }
    return announced - missing
  }
}
