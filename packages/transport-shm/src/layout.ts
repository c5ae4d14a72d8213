// The ring file's layout. One file per producer process:
//
//   bytes 0 … 255      header, Int32 slots (below)
//   bytes 256 …        data: `capacity` bytes, a power of two, used as a ring
//
// Data holds whole frames of the shared schema (packages/core framing: magic,
// length, CRC, payload); a frame may wrap around the end. Positions are byte
// counters modulo 2³²: the frame at position p starts at data[p & (capacity-1)].
//
//   HEAD ≤ READ ≤ TAIL (modulo 2³²)
//   [HEAD, READ)  read by the collector, not yet acknowledged end to end: kept
//   [READ, TAIL)  written, not yet read
//   [TAIL, HEAD + capacity)  free
//
// The producer owns TAIL, STATE and DROPPED; the collector owns HEAD, READ,
// CONTROL, CONSUMER_ASLEEP, CONSUMER_BEAT and the DROPS_* slots.
// TAIL is published (Atomics.store) only after the
// frame's bytes are in place, so a reader never sees half a frame, and HEAD
// moves only when what it passes over is done end to end, so a collector that
// restarts resumes at HEAD and loses nothing.
//
// Liveness, both ways, without pids (which other PID namespaces and pid reuse
// make meaningless): the producer holds an exclusive flock on its ring file
// while it runs (the kernel drops it when the process dies), and the collector
// writes a coarse clock into CONSUMER_BEAT while it reads.

/** 'LKRG' */
export const RING_MAGIC = 0x4c4b5247
/** 2: the producer holds a flock on its file, the collector beats. Version 1 rings are still read (liveness by pid). */
export const RING_VERSION = 2
export const RING_VERSION_PID_ONLY = 1
export const HEADER_BYTES = 256

// Header slots (Int32 indexes), named as thread-stream names its ring's.
export const MAGIC_INDEX = 0
export const VERSION_INDEX = 1
export const CAPACITY_INDEX = 2
export const PRODUCER_PID_INDEX = 3
/** 0 while the producer runs; 1 once it said goodbye. */
export const STATE_INDEX = 4
/** Entries the producer dropped (full ring), total. */
export const DROPPED_INDEX = 5
/** Reserved for the collector to set the producer's level at run time (0 = no change). */
export const CONTROL_INDEX = 6
/** 1 while the collector sleeps: the next write rings the doorbell (and clears it). */
export const CONSUMER_ASLEEP_INDEX = 7
/** Collector-owned positions, on their own cache line (byte 64). */
export const HEAD_INDEX = 16
export const READ_INDEX = 17
/**
 * The collector's heartbeat: Date.now() as an int32 (compare with wrap-safe
 * subtraction), written on a timer and on every read turn, 0 after a clean
 * close. A producer blocks on a full ring only while it is recent.
 */
export const CONSUMER_BEAT_INDEX = 18
/** Drops announced by the frames before READ, total: where a restarted collector's count resumes. */
export const DROPS_ANNOUNCED_INDEX = 19
/** Drops reported to collectors so far, total: each collector reports only what exceeds it. */
export const DROPS_REPORTED_INDEX = 20
/** As DROPS_ANNOUNCED and DROPS_REPORTED, for two reasons the frames name (zeros in older rings: none). */
export const DROPS_ANNOUNCED_TOO_LARGE_INDEX = 21
export const DROPS_ANNOUNCED_UNSERIALIZABLE_INDEX = 22
export const DROPS_REPORTED_TOO_LARGE_INDEX = 23
export const DROPS_REPORTED_UNSERIALIZABLE_INDEX = 24
/**
 * Whether the producer counts its drops by reason, as its hello said, kept
 * for collectors that start after the hello left the ring: 0 not known yet,
 * DROP_REASONS_SAID or DROP_REASONS_NOT_SAID.
 */
export const DROP_REASONS_INDEX = 25
export const DROP_REASONS_SAID = 1
export const DROP_REASONS_NOT_SAID = 2
/** Producer-owned position, on another cache line (byte 128). */
export const TAIL_INDEX = 32

export const STATE_OPEN = 0
export const STATE_CLOSED = 1

export const MIN_CAPACITY = 64 * 1024
export const MAX_CAPACITY = 1024 * 1024 * 1024
export const DEFAULT_CAPACITY = 4 * 1024 * 1024

/** How often the collector beats while it runs (ms). */
export const BEAT_INTERVAL_MS = 250
/** A beat older than this (ms) means no collector is reading: six missed beats. */
export const BEAT_STALE_MS = 1500

/**
 * Ring files are named SOURCE.PID.ID.ring; ID is the start time, a counter of
 * the process and random bytes, so transports made in one millisecond (by one
 * process, or a recycled pid) never collide.
 */
export const RING_SUFFIX = '.ring'
export const DOORBELL_NAME = 'doorbell.fifo'

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0
}
