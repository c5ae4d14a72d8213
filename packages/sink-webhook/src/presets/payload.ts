// What a request carries, whatever the preset: its body, and the entries it
// holds as pino NDJSON lines for the dead-letter file. A renderer turns the
// entries of one write into payloads, each within the limits of the preset
// and of `batch` (entries, bytes).

import { type EntryBatch, JsonLineWriter, type LogEntry } from '@logkit/core'

export interface Payload {
  /** Entries in it. */
  readonly count: number
  /** The request body, before compression. */
  readonly body: Buffer
  readonly contentType: string
  /** True when one entry alone is larger than `batch.maxBytes`: never sent, dead-lettered as it is. */
  readonly oversized: boolean
  /** Its entries as NDJSON lines (pino's shape), for the dead-letter file. */
  lines(): Buffer
  /** Two payloads of half its entries each (after a 413), or undefined when it holds one entry. */
  split(): readonly [Payload, Payload] | undefined
}

export interface Renderer {
  /** Payloads of `entries`, in order, each within the limits. */
  entries(entries: readonly LogEntry[]): Payload[]
  /** The byte path: payloads of the batches' entries, rendered by copying their bytes. Only json and ndjson. */
  readonly batches?: ((batches: readonly EntryBatch[]) => Payload[]) | undefined
}

/** The NDJSON lines of some entries (for the dead-letter file of a payload built from objects). */
export function linesOf(entries: readonly LogEntry[]): Buffer {
  const writer = new JsonLineWriter(16 * 1024)
  for (const entry of entries) writer.json(entry)
  return Buffer.from(writer.take(writer.pos))
}
