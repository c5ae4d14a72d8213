// The frames of logkit.v1 as plain objects: what travels in one length-delimited
// frame between a producer and the collector.

import type { LogEntry } from './entry.js'

export interface BatchFrame {
  readonly type: 'batch'
  readonly entries: LogEntry[]
  /** Entries the producer dropped since its previous batch. */
  readonly dropped: number
}

export interface Hello {
  readonly app: string
  readonly source: string
  readonly pid: number
  readonly hostname: string
  readonly protocol: number
  readonly transport: string
  readonly capabilities: readonly string[]
  readonly startTime: bigint
}

export interface HelloFrame extends Hello {
  readonly type: 'hello'
}

export interface HeartbeatFrame {
  readonly type: 'heartbeat'
  readonly now: bigint
  /** When the producer promises to check in again (ns since epoch). */
  readonly next: bigint
  readonly lastSeq: number
}

export interface GoodbyeFrame {
  readonly type: 'goodbye'
  readonly lastSeq: number
  readonly dropped: number
}

/** A frame with none of the known bodies (a newer producer's): skipped, never fatal. */
export interface UnknownFrame {
  readonly type: 'unknown'
}

export type Frame = BatchFrame | HelloFrame | HeartbeatFrame | GoodbyeFrame | UnknownFrame

/** The protocol version this core speaks. */
export const PROTOCOL_VERSION = 1
