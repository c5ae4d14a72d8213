// One browser's live stream. The sink's write() hands each entry to every
// client and never waits: a client writes to its socket while the socket
// takes it (res.write() true), and once the socket is full (false) queues up
// to `maxQueue` entries until 'drain'. A queue that would overflow is let go
// whole: the client is dropped to the tail, counts every entry it misses
// until its socket drains, and is then told, in one `missed` event with the
// count, before live entries go on. A socket that stays full for `stallMs` is
// closed. So what one client holds is bounded by its queue plus the socket's
// own buffer (one write past its high-water mark), whatever the browser does.

import type { ServerResponse } from 'node:http'
import { matches, sseEvent, type ViewEntry, type ViewFilter } from './view-entry.js'

export interface ClientStatus {
  readonly id: number
  readonly ip: string
  readonly queued: number
  readonly maxQueue: number
  readonly peakQueued: number
  readonly bufferedBytes: number
  readonly stalled: boolean
  readonly sent: number
  readonly missed: number
}

export class SseClient {
  readonly #queue: string[] = []
  #stalled = false
  /** Missed since the client was last told. */
  #missed = 0
  #missedTotal = 0
  #peakQueued = 0
  #sent = 0
  #stallTimer: NodeJS.Timeout | undefined
  #closed = false
  /** Events of the batch being published, written as one chunk at its end (see begin()). */
  #batch: string[] | undefined

  constructor(
    readonly id: number,
    readonly ip: string,
    readonly res: ServerResponse,
    readonly filter: ViewFilter,
    readonly maxQueue: number,
    readonly stallMs: number,
  ) {
    res.on('drain', () => this.#drained())
  }

  /** Sends what matches the filter, or queues it, or counts it missed; never waits. */
  offer(entry: ViewEntry): void {
    if (this.#closed || !matches(this.filter, entry)) return
    if (!this.#stalled) {
      if (this.#batch !== undefined) this.#batch.push(entry.event)
      else this.#write(entry.event)
      this.#sent++
      return
    }
    if (this.#missed > 0) {
      // Dropped to the tail: nothing is queued until the socket drains.
      this.#miss(1)
      return
    }
    if (this.#queue.length >= this.maxQueue) {
      this.#miss(this.#queue.length + 1)
      this.#queue.length = 0
      return
    }
    this.#queue.push(entry.event)
    if (this.#queue.length > this.#peakQueued) this.#peakQueued = this.#queue.length
  }

  /**
   * Collects the entries of one published batch and writes them as one chunk
   * at end(): one write (and one syscall) per batch instead of per entry. A
   * socket that was writable takes the whole batch, so what it buffers beyond
   * its high-water mark is at most one batch (the pipeline's, 1,000 entries
   * by default).
   */
  begin(): void {
    this.#batch = []
  }

  end(): void {
    const batch = this.#batch
    this.#batch = undefined
    if (batch !== undefined && batch.length > 0 && !this.#closed) this.#write(batch.join(''))
  }

  /** Writes an event that is not an entry (missed, hello), unless the stream is stalled. */
  send(event: string): void {
    if (!this.#closed && !this.#stalled) this.#write(event)
  }

  /** Tells the client it missed `count` entries before its stream began (a resume past the history). */
  tellMissed(count: number, reason: string): void {
    // A stalled client hears of it with what it misses meanwhile, once it drains.
    if (this.#stalled) this.#miss(count)
    else this.send(sseEvent('missed', { count, reason }))
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#stallTimer)
    this.#queue.length = 0
    this.res.end()
  }

  status(): ClientStatus {
    return {
      id: this.id,
      ip: this.ip,
      queued: this.#queue.length,
      maxQueue: this.maxQueue,
      peakQueued: this.#peakQueued,
      bufferedBytes: this.res.writableLength,
      stalled: this.#stalled,
      sent: this.#sent,
      missed: this.#missedTotal,
    }
  }

  #miss(n: number): void {
    this.#missed += n
    this.#missedTotal += n
  }

  #write(text: string): void {
    if (this.res.write(text)) return
    this.#stalled = true
    this.#stallTimer ??= setTimeout(() => this.#stalledTooLong(), this.stallMs).unref()
  }

  #drained(): void {
    if (this.#closed) return
    this.#stalled = false
    clearTimeout(this.#stallTimer)
    this.#stallTimer = undefined
    if (this.#missed > 0) {
      const count = this.#missed
      this.#missed = 0
      this.#write(sseEvent('missed', { count, reason: 'slow' }))
    }
    while (!this.#stalled && this.#queue.length > 0) {
      this.#write(this.#queue.shift() as string)
      this.#sent++
    }
  }

  /** A socket full for stallMs: the browser is gone or asleep; it reconnects with Last-Event-ID if it can. */
  #stalledTooLong(): void {
    this.#closed = true
    this.#queue.length = 0
    this.res.destroy()
  }
}
