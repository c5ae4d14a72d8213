// The sink contract: a sink receives batches and says when they are durable.
// The runtime wraps each sink with its own bounded queue, overflow policy,
// retries and failure isolation (runtime/sink-runner.ts), so a sink itself only
// writes.

import type { LogEntry } from './entry.js'

export interface Sink {
  /** Resolves when the batch is durable or delivered; rejects to have the runtime retry it. */
  write(batch: readonly LogEntry[]): void | Promise<void>
  /** Resolves when everything written so far is durable. */
  flush?(): void | Promise<void>
  /** Flush and release resources; no write follows. */
  close?(): void | Promise<void>
}
