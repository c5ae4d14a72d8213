// The producer side: `shm(options)` is a transport for createLogger that writes
// each frame straight into this process's ring, from the calling thread. When
// log.info() returns, the entry is in shared memory: it survives this
// process's crash and the collector's.

import { join } from 'node:path'
import { type RuntimeEnv, runtimePaths, type Transport } from '@logkit/core/producer'
import { ensureMemoryDir } from './dirs.js'
import { DoorbellRinger, doorbellPath } from './doorbell.js'
import {
  CONSUMER_ASLEEP_INDEX,
  CONTROL_INDEX,
  DEFAULT_CAPACITY,
  DROPPED_INDEX,
  HEAD_INDEX,
  RING_SUFFIX,
  STATE_CLOSED,
  STATE_INDEX,
  TAIL_INDEX,
} from './layout.js'
import { Ring } from './ring.js'

export type ShmPolicy = 'block' | 'drop'

export interface ShmOptions {
  readonly app: string
  /** Names the ring file; usually the logger's source (default 'main'). */
  readonly source?: string
  /** Data bytes of the ring, a power of two (default 4 MiB). */
  readonly capacity?: number
  /** What a write into a full ring does (default block: wait up to blockMs for the collector, then drop). */
  readonly policy?: ShmPolicy
  readonly blockMs?: number
  readonly env?: RuntimeEnv
}

export interface ShmTransport extends Transport {
  writeRange(bytes: Buffer, start: number, end: number): boolean
  readonly ring: Ring
  /** Entries this transport dropped (full ring). */
  readonly dropped: number
  /** The level the collector asked for through the control word (0: none). */
  readonly controlLevel: number
  /** Calls `listener` when the collector asks for another level (checked a few times a second, off the log path). */
  onLevel(listener: (level: number) => void): void
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))
/** How often a producer looks at its control word; never on the log path. */
const LEVEL_POLL_MS = 250

export function shm(options: ShmOptions): ShmTransport {
  const paths = runtimePaths(options.app, options.env)
  ensureMemoryDir(paths)
  const source = (options.source ?? 'main').replace(/[^A-Za-z0-9_-]/g, '_')
  const file = join(paths.memoryDir, `${source}.${process.pid}.${Date.now().toString(36)}${RING_SUFFIX}`)
  const ring = Ring.create(file, options.capacity ?? DEFAULT_CAPACITY)
  const doorbell = new DoorbellRinger(doorbellPath(paths.appDir))
  const policy = options.policy ?? 'block'
  const blockMs = options.blockMs ?? 100
  const h = ring.header
  const capacity = ring.capacity
  let tail = 0
  let dropped = 0
  let closed = false

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

  const drop = () => {
    dropped++
    Atomics.add(h, DROPPED_INDEX, 1)
    return false
  }

  /** Waits (bounded) until n bytes are free; false when they never were. */
  const waitForRoom = (n: number): boolean => {
    const deadline = Date.now() + blockMs
    doorbell.ring() // a full ring means the collector should be reading: make sure it is awake
    while (((tail - (Atomics.load(h, HEAD_INDEX) >>> 0)) >>> 0) + n > capacity) {
      if (Date.now() >= deadline) return false
      Atomics.wait(sleeper, 0, 0, 1)
    }
    return true
  }

  // A new ring: tell a sleeping collector it exists.
  doorbell.ring()

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
      if (closed || n > capacity) return drop()
      if (((tail - (Atomics.load(h, HEAD_INDEX) >>> 0)) >>> 0) + n > capacity) {
        if (policy === 'drop' || !waitForRoom(n)) return drop()
      }
      ring.put(tail, bytes, start, end)
      tail = (tail + n) >>> 0
      // Publish only now: the collector never sees half a frame.
      Atomics.store(h, TAIL_INDEX, tail | 0)
      wake()
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
    },
  }
}
