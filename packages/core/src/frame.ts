// The frames of logkit.v1 as plain objects: what travels in one length-delimited
// frame between a producer and the collector.

import type { LogEntry } from './entry.js'

/**
 * Why a producer's entries were dropped. `dropped` counts them all; of those,
 * the two named reasons are counted apart, and the rest are the ones its
 * transport refused (a full ring or pipe buffer).
 */
export interface DropReasons {
  /** Entries over the producer's maxFrameSize. */
  readonly droppedTooLarge: number
  /** Entries whose fields could not be serialized (a throwing toJSON or getter). */
  readonly droppedUnserializable: number
}

/** A count of drops, all of them (`dropped`) and by reason. */
export interface Drops extends DropReasons {
  readonly dropped: number
}

export interface BatchFrame extends Drops {
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

export interface GoodbyeFrame extends Drops {
  readonly type: 'goodbye'
  readonly lastSeq: number
  /** Entries the producer dropped, total. */
  readonly dropped: number
}

/** A frame with none of the known bodies (a newer producer's): skipped, never fatal. */
export interface UnknownFrame {
  readonly type: 'unknown'
}

export type Frame = BatchFrame | HelloFrame | HeartbeatFrame | GoodbyeFrame | UnknownFrame

/** No drop of either named reason. */
export const NO_DROP_REASONS: DropReasons = { droppedTooLarge: 0, droppedUnserializable: 0 }

/** No drop at all. */
export const NO_DROPS: Drops = { dropped: 0, droppedTooLarge: 0, droppedUnserializable: 0 }

/**
 * The hello capability of a producer whose batches and goodbye count its
 * drops by reason: the rest of its drops are then known to be ones its
 * transport refused. Without it (an older producer) the reason is unknown.
 */
export const CAPABILITY_DROP_REASONS = 'drop-reasons'

/** The protocol version this core speaks. */
export const PROTOCOL_VERSION = 1
