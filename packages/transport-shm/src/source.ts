// The collector side: `use: shm`. Finds the rings of its app (those left by
// earlier runs first), picks up new ones when they ring the doorbell, drains
// while the pipeline has demand, and moves each ring's HEAD only when what it
// passes over is done end to end. Sleeps on the doorbell when every ring is
// empty. Reaps a ring once its producer is gone and it is drained.

import { readdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import {
  acquireSession,
  crc32,
  DemandWait,
  type DiagnosticReporter,
  decodeFrame,
  defineSource,
  FRAME_HEADER_SIZE,
  FRAME_MAGIC_0,
  FRAME_MAGIC_1,
  FRAME_VERSION,
  isLogkitError,
  type LogEntry,
  PLUGIN_API_VERSION,
  ProducerStream,
  processAlive,
  type RuntimeEnv,
  type SourceContext,
  z,
} from '@logkit/core'
import { Observable } from 'rxjs'
import { ensureMemoryDir } from './dirs.js'
import { DoorbellListener, doorbellPath } from './doorbell.js'
import { RING_SUFFIX, STATE_CLOSED } from './layout.js'
import { Ring } from './ring.js'

export interface ShmSourceOptions {
  /** Largest frame accepted (default 1 MiB). */
  readonly maxFrameSize?: number
  /** Bytes read from one ring before moving to the next (default 256 KiB). */
  readonly chunkBytes?: number
  /** How often to look for dead producers and missed rings (default 1000 ms; not on the data path). */
  readonly reapIntervalMs?: number
  readonly env?: RuntimeEnv
}

interface RingState {
  readonly file: string
  readonly ring: Ring
  readonly stream: ProducerStream
  /** The collector's read position (also published as READ). */
  read: number
  /** Entries read after the producer was found gone. */
  salvaged: number
  gone: boolean
  reaped: boolean
}

const scratch = { buf: Buffer.allocUnsafe(64 * 1024) }
const TURN_BYTES = 1024 * 1024
const UNINITIALISED_GRACE_MS = 5000

export function createShmSource(
  app: string,
  options: ShmSourceOptions,
  ctx: Pick<SourceContext, 'demand' | 'signal' | 'report' | 'onAck'>,
): Observable<LogEntry> {
  const maxFrameSize = options.maxFrameSize ?? 1024 * 1024
  const chunkBytes = options.chunkBytes ?? 256 * 1024
  const reapIntervalMs = options.reapIntervalMs ?? 1000
  const report: DiagnosticReporter = ctx.report

  return new Observable<LogEntry>((subscriber) => {
    const handle = acquireSession(app, options.env)
    const { paths } = handle.session
    ensureMemoryDir(paths)
    const rings = new Map<string, RingState>()
    const refused = new Set<string>()
    const uninitialised = new Map<string, number>()
    // Release points, one per frame read, in read order: once the source's
    // first relEnd[i] entries are done, relRing[i]'s HEAD may move to relPos[i].
    // Per frame, so a restart re-reads at most what was in flight.
    let relEnd: number[] = []
    let relPos: number[] = []
    let relRing: RingState[] = []
    let releaseHead = 0
    let emitted = 0
    let acked = 0
    let pending: LogEntry[] = []
    let next = 0
    let scheduled: NodeJS.Immediate | undefined
    let asleep = false
    let stopped = false
    const demand = new DemandWait(ctx.demand, () => schedule())

    const release = (n: number) => {
      acked = n
      let last: RingState | undefined
      let lastPos = 0
      while (releaseHead < relEnd.length && (relEnd[releaseHead] as number) <= n) {
        const state = relRing[releaseHead] as RingState
        if (last !== undefined && last !== state && !last.reaped) last.ring.setHead(lastPos)
        last = state
        lastPos = relPos[releaseHead] as number
        releaseHead++
      }
      if (last !== undefined && !last.reaped) last.ring.setHead(lastPos)
      if (releaseHead > 4096 && releaseHead * 2 > relEnd.length) {
        relEnd = relEnd.slice(releaseHead)
        relPos = relPos.slice(releaseHead)
        relRing = relRing.slice(releaseHead)
        releaseHead = 0
      }
      maybeReapAll()
    }
    ctx.onAck(release)

    const attach = (name: string) => {
      const file = join(paths.memoryDir, name)
      if (rings.has(file) || refused.has(file)) return
      let ring: Ring
      try {
        ring = Ring.open(file)
      } catch (err) {
        // A ring still being created gets a few seconds to write its header.
        if (isLogkitError(err) && err.details?.['reason'] === 'uninitialised') {
          const first = (uninitialised.get(file) ?? uninitialised.set(file, Date.now()).get(file)) as number
          if (Date.now() - first < UNINITIALISED_GRACE_MS) return
        }
        uninitialised.delete(file)
        refused.add(file)
        report({
          code: 'ring_invalid',
          message: isLogkitError(err)
            ? err.message
            : `ring file ${file} cannot be opened: ${(err as Error).message}`,
          details: { file },
        })
        return
      }
      // Resume where the last collector's acknowledgements stopped: what it
      // read but had not seen done is read again (duplicates are identified by pid and seq).
      const head = ring.head
      ring.setRead(head)
      ring.setAsleep(false)
      uninitialised.delete(file)
      const label = `shm producer ${name.slice(0, -RING_SUFFIX.length)}`
      // A ring whose producer is already gone (left by an earlier run) is salvaged whole.
      const gone = ring.state === STATE_CLOSED || !processAlive(ring.pid)
      rings.set(file, {
        file,
        ring,
        stream: new ProducerStream(report, label),
        read: head,
        salvaged: 0,
        gone,
        reaped: false,
      })
    }

    const scan = () => {
      let names: string[]
      try {
        names = readdirSync(paths.memoryDir)
      } catch {
        return
      }
      for (const name of names) if (name.endsWith(RING_SUFFIX)) attach(name)
    }

    /** Reads whole frames of one ring, up to the budget; returns the entries they held. */
    const readRing = (state: RingState, budget: number): number => {
      const ring = state.ring
      const tail = ring.tail
      let p = state.read
      const start = p
      let garbage = 0
      while (p !== tail && (p - start) >>> 0 < budget) {
        const available = (tail - p) >>> 0
        const frame = frameAt(ring, p, available, maxFrameSize)
        if (frame === undefined) {
          // Not a frame here: skip a byte and look again, counting what is skipped.
          garbage++
          p = (p + 1) >>> 0
          continue
        }
        p = (p + frame.size) >>> 0
        let entries: readonly LogEntry[]
        try {
          entries = state.stream.accept(
            decodeFrame(frame.buf, frame.at + FRAME_HEADER_SIZE, frame.at + frame.size),
          )
        } catch {
          garbage += frame.size
          continue
        }
        if (state.gone) state.salvaged += entries.length
        for (const entry of entries) pending.push(entry)
        relEnd.push(emitted + pending.length)
        relPos.push(p)
        relRing.push(state)
      }
      if (garbage > 0) {
        // Skipped bytes hold no entry: release them with what came before.
        relEnd.push(emitted + pending.length)
        relPos.push(p)
        relRing.push(state)
        report({
          code: 'frame_corrupt',
          message: `${ring.path}: skipped ${garbage} bytes that were not valid frames`,
          count: garbage,
          details: { file: ring.path, bytes: garbage },
        })
      }
      state.read = p
      ring.setRead(p)
      return (p - start) >>> 0
    }

    /** Rings in round-robin order; the cursor is where the next turn starts. */
    let cursor = 0
    const nextRingWithData = (): RingState | undefined => {
      const order = [...rings.values()]
      for (let i = 0; i < order.length; i++) {
        const state = order[(cursor + i) % order.length] as RingState
        if (!state.reaped && state.read !== state.ring.tail) {
          cursor = (cursor + i + 1) % order.length
          return state
        }
      }
      return undefined
    }
    const hasData = () => {
      for (const s of rings.values()) if (!s.reaped && s.read !== s.ring.tail) return true
      return false
    }

    const drain = () => {
      scheduled = undefined
      if (stopped) return
      // Bytes read per turn of the event loop, so timers and sockets get theirs.
      let budget = TURN_BYTES
      for (;;) {
        if (demand.paused()) return
        if (next < pending.length) {
          subscriber.next(pending[next++] as LogEntry)
          emitted++
          continue
        }
        pending = []
        next = 0
        if (budget <= 0 || ctx.signal.aborted) break
        const state = nextRingWithData()
        if (state === undefined) break
        budget -= readRing(state, Math.min(chunkBytes, budget))
        // Frames that held nothing new (hello, heartbeats, duplicates) are done already.
        if (emitted + pending.length <= acked) release(acked)
      }
      if (ctx.signal.aborted) return finish()
      if (hasData()) schedule()
      else sleep()
    }

    const schedule = () => {
      if (!stopped) scheduled ??= setImmediate(drain)
    }

    // Sleep protocol: flag every ring, then look once more. A producer stores
    // its tail before it loads the flag, and we store the flag before we load
    // the tail (both sequentially consistent), so either we see its data now or
    // it sees the flag and rings.
    const sleep = () => {
      for (const state of rings.values()) state.ring.setAsleep(true)
      asleep = true
      if (hasData()) wake()
      else maybeReapAll()
    }

    const wake = () => {
      if (!asleep) {
        // A doorbell while awake can be a new ring announcing itself.
        scan()
        return schedule()
      }
      asleep = false
      for (const state of rings.values()) state.ring.setAsleep(false)
      scan()
      schedule()
    }

    const maybeReapAll = () => {
      for (const state of rings.values()) maybeReap(state)
    }

    const maybeReap = (state: RingState) => {
      if (state.reaped) return
      const ring = state.ring
      if (!state.gone) {
        const closed = ring.state === STATE_CLOSED
        if (!closed && processAlive(ring.pid)) return
        state.gone = true
      }
      // Drained and done: every byte read, and released end to end.
      if (state.read !== ring.tail || ring.head !== ring.tail) {
        if (state.read !== ring.tail && asleep) wake()
        return
      }
      state.reaped = true
      const stats = state.stream.stats
      const lostAtExit = ring.dropped - stats.dropped
      if (lostAtExit > 0) {
        report({
          code: 'dropped',
          stage: 'producer',
          message: `${ring.path}: the producer dropped ${lostAtExit} entries it could not announce before it exited`,
          count: lostAtExit,
          details: { pid: ring.pid, reason: 'ring_full' },
        })
      }
      const source = state.stream.hello?.source ?? ring.path
      report({
        code: 'producer_exited',
        level: ring.state === STATE_CLOSED ? 30 : 40,
        message:
          ring.state === STATE_CLOSED
            ? `producer ${source} (pid ${ring.pid}) exited cleanly`
            : `producer ${source} (pid ${ring.pid}) is gone without saying goodbye; ${state.salvaged} entries salvaged from its ring`,
        details: {
          pid: ring.pid,
          source,
          lastSeq: stats.lastSeq,
          salvaged: state.salvaged,
          clean: ring.state === STATE_CLOSED,
        },
      })
      try {
        unlinkSync(state.file)
      } catch {}
      rings.delete(state.file)
    }

    const finish = () => {
      stopped = true
      subscriber.complete()
    }

    const doorbell = new DoorbellListener(doorbellPath(paths.appDir), wake)
    handle.session.setTransport('shm', { dir: paths.memoryDir, doorbell: doorbell.path })
    const reaper = setInterval(() => {
      scan()
      maybeReapAll()
      if (asleep && hasData()) wake()
    }, reapIntervalMs).unref()
    const onAbort = () => {
      // Stop intake: hand over what is decoded, then complete. The rings keep
      // the rest for the next collector.
      wake()
      schedule()
    }
    ctx.signal.addEventListener('abort', onAbort)
    scan()
    schedule()

    return () => {
      stopped = true
      if (scheduled) clearImmediate(scheduled)
      clearInterval(reaper)
      demand.dispose()
      ctx.signal.removeEventListener('abort', onAbort)
      for (const state of rings.values()) state.ring.setAsleep(false)
      doorbell.close()
      handle.release()
    }
  })
}

interface FoundFrame {
  buf: Buffer
  at: number
  size: number
}

/** frameAt's answer, reused from frame to frame: nothing is allocated per frame. */
const found: FoundFrame = { buf: scratch.buf, at: 0, size: 0 }

/**
 * The frame at position p: the buffer holding it whole (the ring's own data
 * when it does not wrap, else a copy in scratch) and where it starts there,
 * valid until the next call; undefined when no valid frame starts at p.
 */
function frameAt(ring: Ring, p: number, available: number, maxFrameSize: number): FoundFrame | undefined {
  if (available < FRAME_HEADER_SIZE) return undefined
  if (
    ring.byteAt(p) !== FRAME_MAGIC_0 ||
    ring.byteAt(p + 1) !== FRAME_MAGIC_1 ||
    ring.byteAt(p + 2) !== FRAME_VERSION
  ) {
    return undefined
  }
  const length = ring.frameLengthAt(p)
  const size = FRAME_HEADER_SIZE + length
  if (length > maxFrameSize || size > available) return undefined
  const at = p & ring.mask
  const whole = found
  if (at + size <= ring.capacity) {
    whole.buf = ring.data
    whole.at = at
  } else {
    whole.buf = ring.bytes(p, size, scratch)
    whole.at = 0
  }
  whole.size = size
  const end = whole.at + size
  return crc32(whole.buf, whole.at + FRAME_HEADER_SIZE, end) === whole.buf.readUInt32LE(whole.at + 8)
    ? whole
    : undefined
}

const shmSourceOptions = z
  .object({
    maxFrameSize: z.number().int().positive().optional(),
    chunkBytes: z.number().int().positive().optional(),
    reapIntervalMs: z.number().int().positive().optional(),
  })
  .strict()

/** `use: shm` */
export const shmSource = defineSource({
  name: 'shm',
  apiVersion: PLUGIN_API_VERSION,
  description: 'Reads the shared-memory rings of the app’s producers.',
  perApp: true,
  options: shmSourceOptions,
  create: (opts, ctx) => createShmSource(ctx.app, opts, ctx),
})
