// The LogEntry model: what producers log, what every operator sees and what
// sinks write. Entries are immutable: an operator that changes one returns a
// new object (spread keeps the runtime's `ack` reference along).

import { Fields } from './fields.js'
import { levelToSeverity } from './levels.js'
import { nowNs } from './time.js'

/**
 * Where an entry came from, for end-to-end acknowledgement: its source's stream
 * and its position in it. Set by the pipeline runtime; operators carry it along
 * by copying the entry (`{ ...entry, msg }`).
 */
export interface AckRef {
  readonly stream: AckStreamLike
  readonly position: number
}

/** The runtime's side of an AckRef; opaque to operators and sinks. */
export interface AckStreamLike {
  readonly id: string
}

export interface LogEntry {
  /** Nanoseconds since the Unix epoch. */
  readonly time: bigint
  /** pino level number (trace 10 … fatal 60). */
  readonly level: number
  readonly msg: string
  readonly app: string
  /** The module that logged. */
  readonly source: string
  readonly pid: number
  readonly hostname: string
  /** Per-producer sequence number from 1; 0 for entries logkit made itself. */
  readonly seq: number
  readonly fields: Fields
  /** W3C trace id (32 hex characters), when the entry belongs to a trace. */
  readonly traceId?: string | undefined
  /** W3C span id (16 hex characters). */
  readonly spanId?: string | undefined
  /** Set by the pipeline runtime; see AckRef. */
  readonly ack?: AckRef | undefined
  /** Set by the `format` operator: the rendered line, without its newline. */
  readonly line?: string | undefined
}

/** The entry's OpenTelemetry severity number. */
export function severityOf(entry: LogEntry): number {
  return levelToSeverity(entry.level)
}

export type EntryInit = Partial<Omit<LogEntry, 'fields'>> & {
  readonly fields?: Fields | Readonly<Record<string, unknown>>
}

/**
 * An entry with defaults for what is not given: now, info, this process. For
 * tests, sources that parse foreign input, and entries logkit makes itself.
 */
export function createEntry(init: EntryInit = {}): LogEntry {
  const { fields, ...rest } = init
  return {
    time: nowNs(),
    level: 30,
    msg: '',
    app: '',
    source: '',
    pid: process.pid,
    hostname: '',
    seq: 0,
    ...rest,
    fields: fields === undefined ? Fields.empty : fields instanceof Fields ? fields : Fields.of(fields),
  }
}
