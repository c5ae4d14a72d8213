// The sink contract: a sink receives batches and says when they are durable.
// The runtime wraps each sink with its own bounded queue, overflow policy,
// retries and failure isolation (runtime/sink-runner.ts), so a sink itself only
// writes.

import type { LogEntry } from './entry.js'
import type { EntryBatch } from './wire/entry-batch.js'

export interface Sink {
  /** Resolves when the batch is durable or delivered; rejects to have the runtime retry it. */
  write(batch: readonly LogEntry[]): void | Promise<void>
  /**
   * Optional, the byte path: takes entries that are still bytes (EntryBatch),
   * in order, instead of decoded LogEntry objects. Same promise as write().
   * The batches and their bytes are valid only until the returned promise
   * settles: render or copy what is kept. A sink without it gets the same
   * entries decoded, through write().
   */
  writeEntries?(batches: readonly EntryBatch[]): void | Promise<void>
  /** Resolves when everything written so far is durable. */
  flush?(): void | Promise<void>
  /**
   * Optional: close is coming. Called once, as soon as the pipeline closes and
   * before the runtime waits for the sink's queue to drain: stop waiting
   * (backoffs, rate limits, Retry-After) and finish or fail what is in flight
   * soon. Writes still follow (the queue drains) until close(). A write that
   * fails from then on is handled as any failed write: under policy block it
   * is left unacknowledged, so a source that keeps its data (shm) hands it to
   * the next collector.
   */
  closing?(): void
  /**
   * Optional: what `logkit status` shows of the sink beside the runtime's
   * counts (a connection, messages in flight), as a few named numbers or
   * short strings. Never secrets. Called on every status request: cheap. A
   * throw shows as `{ error }` in its place; it never fails the request.
   */
  status?(): Record<string, unknown>
  /** Flush and release resources; no write follows. */
  close?(): void | Promise<void>
}
