// The collector's view of one producer stream: it takes that producer's frames
// in order, learns who it is from its hello, checks sequence numbers, drops
// duplicates, and turns announced and unexplained losses into diagnostics.
// Every source (memory, shm, fifo) feeds its frames through one of these.

import { decodeBatchDrops, decodeFrame } from './codec.js'
import type { DiagnosticReporter } from './diagnostics.js'
import type { LogEntry } from './entry.js'
import { CAPABILITY_DROP_REASONS, type Drops, type Frame, type Hello, NO_DROPS } from './frame.js'
import { FRAME_HEADER_SIZE } from './framing.js'
import { reportProducerDrops } from './producer-drops.js'
import { type EntryIndex, KIND_BATCH, KIND_NONE } from './wire/entry-index.js'

export interface ProducerStreamStats {
  entries: number
  /** Entries the producer said it dropped, for any reason. */
  dropped: number
  /** Of those, entries over its maxFrameSize. */
  droppedTooLarge: number
  /** Of those, entries whose fields could not be serialized. */
  droppedUnserializable: number
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
    droppedTooLarge: 0,
    droppedUnserializable: 0,
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
        return this.#batch(frame.entries, frame)
      case 'goodbye': {
        this.goodbye = true
        // The goodbye carries the producer's total drops: those not yet
        // announced explain a missing tail.
        const { stats } = this
        const unannounced = Math.max(0, frame.dropped - stats.dropped)
        if (unannounced > 0)
          this.#announce(
            {
              dropped: unannounced,
              droppedTooLarge: Math.max(0, frame.droppedTooLarge - stats.droppedTooLarge),
              droppedUnserializable: Math.max(0, frame.droppedUnserializable - stats.droppedUnserializable),
            },
            undefined,
          )
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
    if (announced > 0) {
      // Rare: the reasons are read from the frame's bytes only then.
      const start = (index.frameStart[f] as number) + FRAME_HEADER_SIZE
      const drops = decodeBatchDrops(index.buf, start, index.frameEnd[f] as number)
      this.#announce(drops, first < end ? index.pid[first] : undefined)
    }
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

  #batch(entries: LogEntry[], drops: Drops): readonly LogEntry[] {
    let announced = drops.dropped
    if (announced > 0) this.#announce(drops, entries[0]?.pid)
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

  /** The drops announced so far, total and by reason (a snapshot: a new object when they change). */
  get drops(): Drops {
    return this.#drops
  }

  /**
   * Goes on with a run another collector delivered up to `lastSeq`, having
   * reported `drops` (from its checkpoint): those are not reported again.
   */
  resume(lastSeq: number, drops: Drops): void {
    this.stats.lastSeq = lastSeq
    this.#setDrops(drops)
  }

  #drops: Drops = NO_DROPS

  #setDrops(drops: Drops): void {
    const { stats } = this
    stats.dropped = drops.dropped
    stats.droppedTooLarge = drops.droppedTooLarge
    stats.droppedUnserializable = drops.droppedUnserializable
    this.#drops = {
      dropped: drops.dropped,
      droppedTooLarge: drops.droppedTooLarge,
      droppedUnserializable: drops.droppedUnserializable,
    }
  }

  #announce(drops: Drops, pid: number | undefined): void {
    const { stats } = this
    this.#setDrops({
      dropped: stats.dropped + drops.dropped,
      droppedTooLarge: stats.droppedTooLarge + drops.droppedTooLarge,
      droppedUnserializable: stats.droppedUnserializable + drops.droppedUnserializable,
    })
    reportProducerDrops(this.#report, this.#label, this.hello?.pid ?? pid, drops, this.knowsDropReasons)
  }

  /**
   * Whether the producer counts its drops by reason: said in its hello; a
   * stream joined after its hello (a collector restart) is taken to be of
   * this version. (A run resumed from an older collector's checkpoint has no
   * reason counts: what its goodbye adds may then be told under a reason the
   * older collector had told as dropped_by_producer; the totals still hold.)
   */
  get knowsDropReasons(): boolean {
    return this.hello === undefined || this.hello.capabilities.includes(CAPABILITY_DROP_REASONS)
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
