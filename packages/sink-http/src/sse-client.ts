// One browser's live stream. The sink's write() hands each entry to every
// client and never waits. Everything a client is sent goes through one queue
// of at most `maxQueue` events, in order: entries, and the `missed` events of
// the feed; the queue is written to the socket in chunks of at most
// CHUNK_BYTES, and writing stops as soon as res.write() returns false (or the
// socket holds more than its high-water mark plus one chunk), until 'drain'.
// A queue that would overflow is let go whole: the client is dropped to the
// tail, counts every entry it misses until its socket drains, and is then
// told, in `missed` events with the count and the reason, before live entries
// go on. A socket that stays full for `stallMs` is closed. So what one client
// holds is bounded: `maxQueue` events, plus the socket's buffer (its
// high-water mark and one chunk), whatever the browser does and however
// large a batch or the history is.

import type { ServerResponse } from 'node:http'
import { matches, sseEvent, type ViewEntry, type ViewFilter } from './view-entry.js'

/** Most bytes written to a socket at once (several events joined: one syscall for many). */
export const CHUNK_BYTES = 64 * 1024

export interface ClientStatus {
  readonly id: number
  readonly ip: string
  readonly queued: number
  readonly maxQueue: number
  readonly peakQueued: number
  readonly bufferedBytes: number
  /** What the socket may hold before the client counts as stalled (its high-water mark and one chunk). */
  readonly maxBufferedBytes: number
  readonly stalled: boolean
  readonly sent: number
  readonly missed: number
}

/** One queued event: its text, and what it stands for when it is let go. */
interface Pending {
  readonly text: string
  /** 1 for an entry, 0 otherwise. */
  readonly entries: number
  /** A `missed` event of the feed or the history: let go, its count is told again. */
  readonly missed?: { readonly count: number; readonly reason: string } | undefined
}

export class SseClient {
  readonly #queue: Pending[] = []
  #stalled = false
  /** Dropped to the tail: entries missed since the client was last told, by reason, in the order they began. */
  readonly #missed = new Map<string, number>()
  #missedTotal = 0
  #peakQueued = 0
  #sent = 0
  #stallTimer: NodeJS.Timeout | undefined
  #closed = false
  /** Inside begin()/end(): flushed at end(), or when the queue is full. */
  #batching = false
  readonly maxBufferedBytes: number

  constructor(
    readonly id: number,
    readonly ip: string,
    readonly res: ServerResponse,
    readonly filter: ViewFilter,
    readonly maxQueue: number,
    readonly stallMs: number,
  ) {
    this.maxBufferedBytes = res.writableHighWaterMark + CHUNK_BYTES
    res.on('drain', () => this.#drained())
  }

  /** Sends what matches the filter, or queues it, or counts it missed; never waits. */
  offer(entry: ViewEntry): void {
    if (this.#closed) return
    if (entry.missed !== undefined) {
      this.tellMissed(entry.missed.count, entry.missed.reason)
      return
    }
    if (!matches(this.filter, entry)) return
    this.#enqueue({ text: entry.event, entries: 1 })
  }

  /** Collects the events of one published batch, written at end() (in chunks, as far as the socket takes them). */
  begin(): void {
    this.#batching = true
  }

  end(): void {
    this.#batching = false
    this.#flush()
  }

  /**
   * An event that is not an entry (hello, live): queued in order, never let
   * go (a stream has one of each), so the bound is maxQueue plus these two.
   */
  send(event: string): void {
    if (this.#closed) return
    this.#queue.push({ text: event, entries: 0 })
    if (!this.#batching) this.#flush()
  }

  /** A comment so that proxies keep the stream: only to a client with nothing waiting. */
  keepAlive(): void {
    if (!this.#closed && !this.#stalled && this.#queue.length === 0) this.#write(': keep-alive\n\n')
  }

  /** Tells the client it missed `count` entries (`reason`: history, feed), in its place in the stream. */
  tellMissed(count: number, reason: string, upTo = false): void {
    if (this.#closed || count <= 0) return
    const body = upTo ? { upTo: count, reason } : { count, reason }
    this.#enqueue({ text: sseEvent('missed', body), entries: 0, missed: { count, reason } })
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
      maxBufferedBytes: this.maxBufferedBytes,
      stalled: this.#stalled,
      sent: this.#sent,
      missed: this.#missedTotal,
    }
  }

  #enqueue(item: Pending): void {
    if (this.#missed.size > 0) {
      // Dropped to the tail: nothing is queued until the socket drains.
      this.#letGo(item)
      return
    }
    if (this.#queue.length >= this.maxQueue && !this.#stalled) this.#flush()
    if (this.#queue.length >= this.maxQueue) {
      const kept: Pending[] = []
      for (const p of this.#queue.splice(0)) {
        if (p.entries === 0 && p.missed === undefined) kept.push(p)
        else this.#letGo(p)
      }
      this.#queue.push(...kept)
      this.#letGo(item)
      return
    }
    this.#queue.push(item)
    if (this.#queue.length > this.#peakQueued) this.#peakQueued = this.#queue.length
    if (!this.#batching) this.#flush()
  }

  #letGo(item: Pending): void {
    const reason = item.missed?.reason ?? 'slow'
    const count = item.missed?.count ?? item.entries
    if (count === 0) return
    this.#missed.set(reason, (this.#missed.get(reason) ?? 0) + count)
    this.#missedTotal += count
  }

  /** Writes the queue in chunks while the socket takes them. */
  #flush(): void {
    if (this.#closed || this.#stalled) return
    if (this.#missed.size > 0) {
      let told = ''
      for (const [reason, count] of this.#missed) told += sseEvent('missed', { count, reason })
      this.#missed.clear()
      this.#write(told)
    }
    while (!this.#stalled && this.#queue.length > 0) {
      let chunk = ''
      let n = 0
      let entries = 0
      for (const p of this.#queue) {
        if (n > 0 && chunk.length + p.text.length > CHUNK_BYTES) break
        chunk += p.text
        entries += p.entries
        n++
      }
      this.#queue.splice(0, n)
      this.#sent += entries
      this.#write(chunk)
    }
  }

  #write(text: string): void {
    if (this.res.write(text) && this.res.writableLength <= this.maxBufferedBytes) return
    this.#stalled = true
    this.#stallTimer ??= setTimeout(() => this.#stalledTooLong(), this.stallMs).unref()
  }

  #drained(): void {
    if (this.#closed) return
    this.#stalled = false
    clearTimeout(this.#stallTimer)
    this.#stallTimer = undefined
    this.#flush()
  }

  /** A socket full for stallMs: the browser is gone or asleep; it reconnects with Last-Event-ID if it can. */
  #stalledTooLong(): void {
    this.#closed = true
    this.#queue.length = 0
    this.res.destroy()
  }
}
