// One single-producer/single-consumer ring over a shared mapping. The producer
// and the collector each hold a Ring over the same file; see layout.ts for the
// slots and the invariants. No locks: each slot has one writer.

import { closeSync, constants, fstatSync, openSync } from 'node:fs'
import { FRAME_HEADER_SIZE, FRAME_LENGTH_OFFSET, LogkitError, processAlive } from '@logkit/core/producer'
import {
  CAPACITY_INDEX,
  CONSUMER_ASLEEP_INDEX,
  CONSUMER_BEAT_INDEX,
  DROPPED_INDEX,
  HEAD_INDEX,
  HEADER_BYTES,
  isPowerOfTwo,
  MAGIC_INDEX,
  MAX_CAPACITY,
  MIN_CAPACITY,
  PRODUCER_PID_INDEX,
  READ_INDEX,
  RING_MAGIC,
  RING_VERSION,
  RING_VERSION_PID_ONLY,
  STATE_INDEX,
  TAIL_INDEX,
  VERSION_INDEX,
} from './layout.js'
import { native } from './native.js'

const NO_SOURCE = new DataView(new ArrayBuffer(0))

/** Closes fd; an error (already closed, EIO) changes nothing for a caller letting it go. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {}
}

let faults: Int32Array | undefined

/** The fault counts of watched mappings (see native.ts open). */
function faultCounts(): Int32Array {
  faults ??= new Int32Array(native().faults())
  return faults
}

export class Ring {
  readonly header: Int32Array
  /** The data area as a Buffer view of the shared memory. */
  readonly data: Buffer
  /** The same data area as a DataView, for copying frames in (see put). */
  readonly #view: DataView
  readonly capacity: number
  readonly mask: number
  /** The buffer put() last copied from, and a view of it. */
  #source: Buffer | undefined
  #sourceView: DataView = NO_SOURCE
  /** The producer's: the fd holding the ring's flock. Anyone else's: an fd to probe that lock and the file's size. */
  #fd: number | undefined
  /** A reader's mapping, watched for faults: its slot in faultCounts(); -1 when not watched. */
  readonly #slot: number

  private constructor(
    readonly path: string,
    sab: SharedArrayBuffer,
    fd: number | undefined,
    slot = -1,
  ) {
    this.#fd = fd
    this.#slot = slot
    this.header = new Int32Array(sab, 0, HEADER_BYTES / 4)
    this.capacity = sab.byteLength - HEADER_BYTES
    this.mask = this.capacity - 1
    this.data = Buffer.from(sab, HEADER_BYTES, this.capacity)
    this.#view = new DataView(sab, HEADER_BYTES, this.capacity)
  }

  /**
   * Copies bytes[start, end) into the data area at position p (wrapping).
   * The caller has checked there is room. A frame is ~100–300 bytes, where
   * Buffer#copy's fixed cost (a view per call, then a native copy) is most
   * of the price; copying it 4 bytes at a time in JS costs about half.
   */
  put(p: number, bytes: Buffer, start: number, end: number): void {
    const at = p & this.mask
    const first = this.capacity - at
    if (end - start <= first) this.#copy(bytes, start, end, at)
    else {
      this.#copy(bytes, start, start + first, at)
      this.#copy(bytes, start + first, end, 0)
    }
  }

  #copy(bytes: Buffer, start: number, end: number, at: number): void {
    // Through DataViews, which read and write 4 bytes at any alignment (a
    // frame starts anywhere in either buffer) and in one byte order on both
    // sides (a copy whatever the machine's). A logger hands over the same
    // buffer call after call: its view is made once.
    if (bytes !== this.#source) {
      this.#source = bytes
      this.#sourceView = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
    }
    const src = this.#sourceView
    const dst = this.#view
    let s = start
    let d = at
    const words = s + ((end - start) & ~3)
    while (s < words) {
      dst.setInt32(d, src.getInt32(s, true), true)
      s += 4
      d += 4
    }
    while (s < end) dst.setUint8(d++, src.getUint8(s++))
  }

  /**
   * Creates a new ring file (0600, O_EXCL) for this process, its memory
   * reserved and its flock held until close(); the magic is written last.
   * Throws LOGKIT_ERR_SHM_NO_SPACE when the file system cannot hold it.
   */
  static create(path: string, capacity: number): Ring {
    checkCapacity(capacity)
    let sab: SharedArrayBuffer
    let fd: number
    try {
      ;[sab, fd] = native().create(path, HEADER_BYTES + capacity)
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOSPC') throw cause
      throw new LogkitError(
        'LOGKIT_ERR_SHM_NO_SPACE',
        `no room for a ring of ${capacity} bytes in ${path}: the shared-memory file system is full. Raise its size (docker run --shm-size=256m, or a bigger tmpfs at /dev/shm), use a smaller capacity, or set LOGKIT_SHM_DIR to a larger tmpfs`,
        { cause, details: { path, capacity } },
      )
    }
    const ring = new Ring(path, sab, fd)
    const h = ring.header
    Atomics.store(h, VERSION_INDEX, RING_VERSION)
    Atomics.store(h, CAPACITY_INDEX, capacity)
    Atomics.store(h, PRODUCER_PID_INDEX, process.pid)
    // A collector that sees the magic sees a complete header.
    Atomics.store(h, MAGIC_INDEX, RING_MAGIC)
    return ring
  }

  /** Opens an existing ring file, checking its header. Throws LOGKIT_ERR_SHM_RING_INVALID. */
  static open(path: string): Ring {
    let sab: SharedArrayBuffer
    let slot: number
    try {
      ;[sab, slot] = native().open(path)
    } catch (err) {
      // An empty file (EINVAL: nothing to map) is a ring its producer is still
      // creating and sizing: the caller gives it a grace period, like a ring
      // without its magic yet.
      if ((err as NodeJS.ErrnoException).code === 'EINVAL') invalid(path, 'is empty', 'uninitialised')
      throw err
    }
    // Short: a producer still reserving its memory (or not a ring at all, which
    // the grace period then refuses).
    if (sab.byteLength < HEADER_BYTES + MIN_CAPACITY)
      invalid(path, `is ${sab.byteLength} bytes, too small for a ring`, 'uninitialised')
    const ring = new Ring(path, sab, undefined, slot)
    ring.#check()
    return ring
  }

  #check(): void {
    const path = this.path
    const h = this.header
    const magic = Atomics.load(h, MAGIC_INDEX)
    // Zero: a producer that has created the file but not yet written its header.
    if (magic !== RING_MAGIC) invalid(path, 'has no ring magic', magic === 0 ? 'uninitialised' : 'magic')
    const version = Atomics.load(h, VERSION_INDEX)
    if (version !== RING_VERSION && version !== RING_VERSION_PID_ONLY)
      invalid(path, `has layout version ${version}, this collector reads ${RING_VERSION}`)
    const capacity = Atomics.load(h, CAPACITY_INDEX)
    if (capacity !== this.capacity || !isPowerOfTwo(capacity)) {
      invalid(path, `says its capacity is ${capacity} but holds ${this.capacity} data bytes`)
    }
    if (!this.inOrder(this.read)) invalid(path, 'has positions out of order')
    // Opened only once the header checks out: an fd to probe the producer's lock and the file's size.
    this.#fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  }

  /** Releases the file: the producer's lock, or a reader's probe fd. The mapping lives on until collected. */
  close(): void {
    if (this.#fd === undefined) return
    closeQuietly(this.#fd)
    this.#fd = undefined
  }

  /**
   * Whether the ring's producer still runs: it holds the ring's flock (which
   * holds across PID namespaces and pid reuse), or, for a version 1 ring, its
   * pid answers.
   */
  producerAlive(): boolean {
    if (Atomics.load(this.header, VERSION_INDEX) === RING_VERSION_PID_ONLY) return processAlive(this.pid)
    return this.#fd !== undefined && native().lockHeld(this.#fd)
  }

  /**
   * Whether the file still holds the whole ring. Another process of the user
   * can truncate it; reading the mapping past the end would then be SIGBUS.
   */
  intact(): boolean {
    return this.#fd !== undefined && fstatSync(this.#fd).size >= HEADER_BYTES + this.capacity
  }

  /**
   * A reader's check before it touches the ring again: false once a read
   * found the file cut short (its mapping is watched: the read got zeros, see
   * native.ts), or, for a mapping that could not be watched, when the file
   * is shorter than the ring now.
   */
  whole(): boolean {
    return this.#slot >= 0 ? Atomics.load(faultCounts(), this.#slot) === 0 : this.intact()
  }

  /** Whether the collector's beat is recent (written within `staleMs` of `now`, wrap-safe). */
  collectorBeating(now: number, staleMs: number): boolean {
    const beat = Atomics.load(this.header, CONSUMER_BEAT_INDEX)
    return beat !== 0 && Math.abs(((now | 0) - beat) | 0) < staleMs
  }

  /** Writes the collector's beat (never 0, which means "none"). */
  beat(now: number): void {
    Atomics.store(this.header, CONSUMER_BEAT_INDEX, now | 0 || 1)
  }

  get head(): number {
    return Atomics.load(this.header, HEAD_INDEX) >>> 0
  }

  get read(): number {
    return Atomics.load(this.header, READ_INDEX) >>> 0
  }

  get tail(): number {
    return Atomics.load(this.header, TAIL_INDEX) >>> 0
  }

  get pid(): number {
    return Atomics.load(this.header, PRODUCER_PID_INDEX)
  }

  get state(): number {
    return Atomics.load(this.header, STATE_INDEX)
  }

  get dropped(): number {
    return Atomics.load(this.header, DROPPED_INDEX) >>> 0
  }

  /**
   * HEAD ≤ read ≤ TAIL ≤ HEAD + capacity (modulo 2³²). A TAIL written behind
   * the read position would otherwise read as ~4 GiB of data.
   */
  inOrder(read: number): boolean {
    const used = this.used(this.head)
    return used <= this.capacity && this.distance(this.head, read) <= used
  }

  /** Bytes from `from` to the tail. */
  used(from: number): number {
    return (this.tail - from) >>> 0
  }

  distance(from: number, to: number): number {
    return (to - from) >>> 0
  }

  /**
   * Moves HEAD forward to `position`, only if it lies in [HEAD, READ]: a
   * collector instance that stopped may still acknowledge late, after its
   * successor has attached and moved on; its older position must not move
   * HEAD back (the ring would then look overfull, and be refused).
   */
  advanceHead(position: number): void {
    const head = this.head
    if (this.distance(head, position) <= this.distance(head, this.read)) this.setHead(position)
  }

  setHead(position: number): void {
    Atomics.store(this.header, HEAD_INDEX, position | 0)
  }

  setRead(position: number): void {
    Atomics.store(this.header, READ_INDEX, position | 0)
  }

  setAsleep(asleep: boolean): void {
    Atomics.store(this.header, CONSUMER_ASLEEP_INDEX, asleep ? 1 : 0)
  }

  /** The byte at position p (wrapping). */
  byteAt(p: number): number {
    return this.data[p & this.mask] as number
  }

  /** The payload length in the frame header at position p (the header may wrap). */
  frameLengthAt(p: number): number {
    const at = (p + FRAME_LENGTH_OFFSET) & this.mask
    if (at + 4 <= this.capacity) return this.data.readUInt32LE(at)
    return (
      (this.byteAt(p + FRAME_LENGTH_OFFSET) |
        (this.byteAt(p + FRAME_LENGTH_OFFSET + 1) << 8) |
        (this.byteAt(p + FRAME_LENGTH_OFFSET + 2) << 16) |
        (this.byteAt(p + FRAME_LENGTH_OFFSET + 3) << 24)) >>>
      0
    )
  }

  /**
   * `size` bytes from position p: a view when they are contiguous, else a copy
   * into `scratch` (grown as needed). Valid until the range is released.
   */
  bytes(p: number, size: number, scratch: { buf: Buffer }): Buffer {
    const at = p & this.mask
    if (at + size <= this.capacity) return this.data.subarray(at, at + size)
    if (scratch.buf.length < size) scratch.buf = Buffer.allocUnsafe(Math.max(size, scratch.buf.length * 2))
    const first = this.capacity - at
    this.data.copy(scratch.buf, 0, at, this.capacity)
    this.data.copy(scratch.buf, first, 0, size - first)
    return scratch.buf.subarray(0, size)
  }
}

export const FRAME_OVERHEAD = FRAME_HEADER_SIZE

export function checkCapacity(capacity: number): void {
  if (!isPowerOfTwo(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY) {
    throw new LogkitError(
      'LOGKIT_ERR_SHM_CAPACITY',
      `ring capacity ${capacity} is not a power of two between ${MIN_CAPACITY} and ${MAX_CAPACITY} bytes: use e.g. 4194304 (4 MiB)`,
      { details: { capacity } },
    )
  }
}

function invalid(path: string, why: string, reason = 'layout'): never {
  throw new LogkitError(
    'LOGKIT_ERR_SHM_RING_INVALID',
    `ring file ${path} ${why}: it is skipped; remove it if it is not a logkit ring`,
    {
      details: { path, reason },
    },
  )
}
