// The producer side: `shm(options)` is a transport for createLogger that writes
// each frame straight into this process's ring, from the calling thread. When
// log.info() returns, the entry is in shared memory: it survives this
// process's crash and the collector's.
//
// A full ring is the only place that looks at the collector: the write path
// itself is a load of HEAD, a copy and a store of TAIL. With a live collector
// (its beat recent) `block` waits, bounded; with none, or one that did not
// move during the last wait, a full ring drops at once and counts, so a
// worker never stalls for a collector that is not there.

import { unlinkSync } from 'node:fs'
import { join } from 'node:path'
import {
  frameKind,
  isLogkitError,
  peekBatch,
  type RuntimeEnv,
  runtimePaths,
  type Transport,
  type TransportFactory,
} from '@logkit/core/producer'
import { ensureMemoryDir } from './dirs.js'
import { DoorbellRinger, doorbellPath } from './doorbell-ringer.js'
import {
  BEAT_STALE_MS,
  CONSUMER_ASLEEP_INDEX,
  CONSUMER_BEAT_INDEX,
  CONTROL_INDEX,
  DEFAULT_CAPACITY,
  DROPPED_INDEX,
  HEAD_INDEX,
  MIN_CAPACITY,
  RING_SUFFIX,
  STATE_CLOSED,
  STATE_INDEX,
  TAIL_INDEX,
} from './layout.js'
import { checkCapacity, Ring } from './ring.js'
import { nothingToDeliver, removeDeadRings } from './sweep.js'

export type ShmPolicy = 'block' | 'drop'

export interface ShmOptions {
  readonly app: string
  /** Names the ring file; usually the logger's source (default 'main'). */
  readonly source?: string
  /** Data bytes of the ring, a power of two (default 4 MiB). */
  readonly capacity?: number
  /**
   * What a write into a full ring does (default block: while a collector is
   * reading, wait up to blockMs for it, then drop; with none, drop at once).
   */
  readonly policy?: ShmPolicy
  readonly blockMs?: number
  readonly env?: RuntimeEnv
}

export interface ShmTransport extends Transport {
  writeRange(bytes: Buffer, start: number, end: number): boolean
  readonly ring: Ring
  /** Entries this transport dropped (full ring), total. */
  readonly dropped: number
  /** Writes into a full ring that waited for the collector (whether room came or not). */
  readonly waits: number
  /** The level the collector asked for through the control word (0: none). */
  readonly controlLevel: number
  /** Calls `listener` when the collector asks for another level (checked a few times a second, off the log path). */
  onLevel(listener: (level: number) => void): void
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))
/** How often a producer looks at its control word; never on the log path. */
const LEVEL_POLL_MS = 250
const FULL_POLICY_DROP = 'the ring is full (policy drop)'
const FULL_NO_COLLECTOR = 'the ring is full and no collector is reading it'
const FULL_COLLECTOR_STUCK = 'the ring is full and the collector made no room within blockMs'
/** Transports this process made: part of each ring's name. */
let made = 0

/**
 * `SOURCE.PID.ID.ring`, unique per transport (see layout.ts). Its random part
 * is a name, not a secret (the file is created O_EXCL): Math.random spares a
 * worker loading node:crypto.
 */
function ringName(source: string): string {
  const random = Math.floor(Math.random() * 0x100000000)
    .toString(16)
    .padStart(8, '0')
  const id = `${Date.now().toString(36)}-${(++made).toString(36)}-${random}`
  return `${source}.${process.pid}.${id}${RING_SUFFIX}`
}

/**
 * Creates the ring, halving the capacity down to the minimum while the
 * shared-memory file system has no room (with a warning saying so); throws
 * LOGKIT_ERR_SHM_NO_SPACE when even the smallest ring does not fit.
 */
function createRing(file: string, capacity: number): Ring {
  checkCapacity(capacity)
  for (let size = capacity; ; size /= 2) {
    try {
      const ring = Ring.create(file, size)
      if (size < capacity) {
        process.emitWarning(
          `logkit shm: no room in shared memory for a ring of ${capacity} bytes; using ${size} bytes (${file}). Raise the size of /dev/shm (docker run --shm-size) or set LOGKIT_SHM_DIR`,
          { type: 'LogkitWarning', code: 'LOGKIT_W_SHM_RING_SMALLER' },
        )
      }
      return ring
    } catch (err) {
      if (!isLogkitError(err, 'LOGKIT_ERR_SHM_NO_SPACE') || size <= MIN_CAPACITY) throw err
    }
  }
}

/** shm()'s options when the logger gives the app (and, unless set here, the source). */
export type ShmFactoryOptions = Omit<ShmOptions, 'app'>

/**
 * A shared-memory ring for this producer. Without `app`, a transport for the
 * logger to open with its own app and source:
 * `createLogger({ app: 'shop', source: 'checkout', transport: shm() })`.
 */
export function shm(options: ShmOptions): ShmTransport
export function shm(options?: ShmFactoryOptions): TransportFactory<ShmTransport>
export function shm(
  options: ShmFactoryOptions & { app?: string } = {},
): ShmTransport | TransportFactory<ShmTransport> {
  const { app } = options
  if (app !== undefined) return openShm({ ...options, app })
  return {
    name: 'shm',
    open: (identity) => openShm({ ...options, app: identity.app, source: options.source ?? identity.source }),
  }
}

function openShm(options: ShmOptions): ShmTransport {
  const paths = runtimePaths(options.app, options.env)
  const dir = ensureMemoryDir(paths)
  const source = (options.source ?? 'main').replace(/[^A-Za-z0-9_-]/g, '_')
  // Room first: the drained rings of producers that are gone.
  removeDeadRings(dir)
  const file = join(dir, ringName(source))
  const ring = createRing(file, options.capacity ?? DEFAULT_CAPACITY)
  const doorbell = new DoorbellRinger(doorbellPath(paths.appDir))
  const policy = options.policy ?? 'block'
  const blockMs = options.blockMs ?? 100
  const h = ring.header
  const capacity = ring.capacity
  let tail = 0
  let dropped = 0
  let waits = 0
  let closed = false
  /** Between the first drop and the ring's draining to half: one warning per such episode. */
  let dropping = false
  /**
   * HEAD when a wait last ran out (-1: none did): no new wait until the
   * collector has released something. Its beat would not do: a collector held
   * back by a sink (policy block, a full disk) beats on, and each beat would
   * cost every call of every worker another blockMs.
   */
  let stuckHead = -1

  const wake = () => {
    // Only the write that finds the collector asleep rings, once.
    if (
      Atomics.load(h, CONSUMER_ASLEEP_INDEX) === 1 &&
      Atomics.compareExchange(h, CONSUMER_ASLEEP_INDEX, 1, 0) === 1
    ) {
      // A ring that reached no one leaves the flag for the next write to try.
      if (!doorbell.ring()) Atomics.store(h, CONSUMER_ASLEEP_INDEX, 1)
    }
  }

  const drop = (why: string, bytes: Buffer, start: number) => {
    // Counted in entries, as the logger counts them: a hello, heartbeat or
    // goodbye frame that did not fit holds none (the collector compares this
    // count with what the logger announces).
    const entries = frameKind(bytes, start) === 'batch' ? peekBatch(bytes, start).entries : 0
    dropped += entries
    if (entries > 0) Atomics.add(h, DROPPED_INDEX, entries)
    if (!dropping) {
      dropping = true
      process.emitWarning(
        `logkit shm: ${why}; entries are dropped and counted (the collector reports the count) until the ring drains (${file})`,
        { type: 'LogkitWarning', code: 'LOGKIT_W_TRANSPORT_DROPPING' },
      )
    }
    return false
  }

  /**
   * A full ring: waits for room for n bytes (only `block`, only while a
   * collector reads); '' when room came, else why not.
   */
  const makeRoom = (n: number): string => {
    if (policy === 'drop') return FULL_POLICY_DROP
    const now = Date.now()
    if (!ring.collectorBeating(now, BEAT_STALE_MS) && !attaching()) return FULL_NO_COLLECTOR
    // The last wait ran out and the collector has released nothing since
    // (stopped, held back, or dead but not yet stale).
    const head = Atomics.load(h, HEAD_INDEX) >>> 0
    if (head === stuckHead) return FULL_COLLECTOR_STUCK
    waits++
    if (waitForRoom(n, now + blockMs)) return ''
    stuckHead = Atomics.load(h, HEAD_INDEX) >>> 0
    return FULL_COLLECTOR_STUCK
  }

  /**
   * A collector was told of this ring and has not beaten in it yet: it is
   * attaching it (listing its directory, mapping the file). A ring filled in
   * its first moments waits for that collector as for one that beats, instead
   * of dropping because no beat is there yet.
   */
  const attaching = (): boolean => {
    if (Atomics.load(h, CONSUMER_BEAT_INDEX) !== 0) beaten = true
    return announced && !beaten
  }

  /** Waits until n bytes are free or the deadline passes (or the collector closes). */
  const waitForRoom = (n: number, deadline: number): boolean => {
    doorbell.ring() // a full ring means the collector should be reading: make sure it is awake
    while (((tail - (Atomics.load(h, HEAD_INDEX) >>> 0)) >>> 0) + n > capacity) {
      // A beat back to 0 after one: that collector closed. None yet: it is still attaching this ring.
      if (Date.now() >= deadline || (Atomics.load(h, CONSUMER_BEAT_INDEX) === 0 && !attaching())) return false
      Atomics.wait(sleeper, 0, 0, 1)
    }
    return true
  }

  // A new ring: tell the collector it exists (it lists its directory for it).
  const announced = doorbell.ring(true)
  let beaten = false

  const levelListeners: ((level: number) => void)[] = []
  let levelTimer: NodeJS.Timeout | undefined
  let lastLevel = 0
  const watchLevel = () => {
    const level = Atomics.load(h, CONTROL_INDEX)
    if (level !== 0 && level !== lastLevel) {
      lastLevel = level
      for (const listener of levelListeners) listener(level)
    }
  }

  return {
    name: 'shm',
    ring,
    get dropped() {
      return dropped
    },
    get waits() {
      return waits
    },
    get controlLevel() {
      return Atomics.load(h, CONTROL_INDEX)
    },
    onLevel(listener) {
      levelListeners.push(listener)
      levelTimer ??= setInterval(watchLevel, LEVEL_POLL_MS).unref()
    },
    write(frame) {
      const bytes =
        frame instanceof Buffer ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.length)
      return this.writeRange(bytes, 0, bytes.length)
    },
    writeRange(bytes, start, end) {
      const n = end - start
      if (closed) return drop('the transport is closed', bytes, start)
      if (n > capacity)
        return drop(`a frame of ${n} bytes is larger than the ring (${capacity} bytes)`, bytes, start)
      const used = (tail - (Atomics.load(h, HEAD_INDEX) >>> 0)) >>> 0
      if (used + n > capacity) {
        const why = makeRoom(n)
        if (why !== '') return drop(why, bytes, start)
      }
      ring.put(tail, bytes, start, end)
      tail = (tail + n) >>> 0
      // Publish only now: the collector never sees half a frame.
      Atomics.store(h, TAIL_INDEX, tail | 0)
      wake()
      if (dropping && used * 2 <= capacity) dropping = false
      return true
    },
    flush() {
      // In shared memory already.
      return Promise.resolve()
    },
    async close() {
      if (closed) return
      closed = true
      if (levelTimer) clearInterval(levelTimer)
      Atomics.store(h, STATE_INDEX, STATE_CLOSED)
      doorbell.ring()
      doorbell.close()
      // With no collector reading, a ring that holds nothing it would need is
      // removed here (a reading collector reaps it after its goodbye). Removed
      // before the lock is let go, so no one else judges it meanwhile.
      if (!ring.collectorBeating(Date.now(), BEAT_STALE_MS) && nothingToDeliver(ring)) {
        try {
          unlinkSync(file)
        } catch {}
      }
      ring.close()
    },
  }
}
