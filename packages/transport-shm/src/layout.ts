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
// CONTROL and CONSUMER_ASLEEP. TAIL is published (Atomics.store) only after the
// frame's bytes are in place, so a reader never sees half a frame, and HEAD
// moves only when what it passes over is done end to end, so a collector that
// restarts resumes at HEAD and loses nothing.

/** 'LKRG' */
export const RING_MAGIC = 0x4c4b5247
export const RING_VERSION = 1
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
/** Producer-owned position, on another cache line (byte 128). */
export const TAIL_INDEX = 32

export const STATE_OPEN = 0
export const STATE_CLOSED = 1

export const MIN_CAPACITY = 64 * 1024
export const MAX_CAPACITY = 1024 * 1024 * 1024
export const DEFAULT_CAPACITY = 4 * 1024 * 1024

/** Ring files are named SOURCE.PID.START.ring, so a recycled pid never reuses a file. */
export const RING_SUFFIX = '.ring'
export const DOORBELL_NAME = 'doorbell.fifo'

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0
}
