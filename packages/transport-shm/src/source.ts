// The collector side: `use: shm`. Finds the rings of its app (those left by
// earlier runs first), picks up new ones when they ring the doorbell, drains
// while the pipeline has demand, and moves each ring's HEAD only when what it
// passes over is done end to end. Sleeps on the doorbell when every ring is
// empty. Reaps a ring once its producer is gone (its lock released) and it is
// drained. Beats in every ring while it runs, so producers know a collector
// is reading; checks each ring file's size before it touches the mapping in a
// turn, so a file truncated behind its back is refused, not a SIGBUS.

import { readdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import {
  acquireSession,
  DemandWait,
  type DiagnosticReporter,
  decodeBatchDrops,
  decodeFrame,
  defineSource,
  EntryBatch,
  FRAME_HEADER_SIZE,
  FRAME_MAGIC_0,
  FRAME_MAGIC_1,
  FRAME_VERSION,
  isLogkitError,
  type LogEntry,
  MAX_BATCH_ENTRIES,
  PLUGIN_API_VERSION,
  ProducerStream,
  type RuntimeEnv,
  reportProducerDrops,
  type SourceContext,
  z,
} from '@logkit/core'
import { EntryIndex, FRAME_MALFORMED, KIND_BATCH, KIND_NONE } from '@logkit/core/wire'
import { Observable } from 'rxjs'
import { ensureMemoryDir } from './dirs.js'
import { DoorbellListener, doorbellPath } from './doorbell.js'
import { DropLedger } from './drops.js'
import { BEAT_INTERVAL_MS, CONSUMER_BEAT_INDEX, RING_SUFFIX, STATE_CLOSED } from './layout.js'
import { Ring } from './ring.js'
import { FrameScanner } from './scan.js'

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
  readonly label: string
  readonly stream: ProducerStream
  readonly drops: DropLedger
  readonly scanner: FrameScanner
  /** The collector's read position (also published as READ). */
  read: number
  /** Entries read after the producer was found gone. */
  salvaged: number
  gone: boolean
  reaped: boolean
}

/** A run's release point (see createShmSource). */
interface Release {
  /** Positions done before HEAD may pass the whole run. */
  readonly end: number
  /** Positions done before the run's first entry. */
  readonly base: number
  /** The ring position after the run. */
  readonly pos: number
  /** The ring position of the run's first byte, and where that byte is in the index's buffer. */
  readonly start: number
  readonly at: number
  readonly state: RingState
  readonly slot: Slot
}

/** An index and its rows, reused once the batch made of them is acknowledged. */
interface Slot {
  readonly index: EntryIndex
  rows: Int32Array
}

const TURN_BYTES = 1024 * 1024
/** Slots kept for reuse; more are made while more batches are in flight, and left to the GC. */
const SLOT_POOL = 64
const UNINITIALISED_GRACE_MS = 5000
/** How long after teardown rings wait for their last acknowledgements before they are closed anyway. */
const LATE_ACK_MS = 60_000

export function createShmSource(
  app: string,
  options: ShmSourceOptions,
  ctx: Pick<SourceContext, 'demand' | 'signal' | 'report' | 'onAck'> & Partial<Pick<SourceContext, 'env'>>,
): Observable<LogEntry | EntryBatch> {
  const maxFrameSize = options.maxFrameSize ?? 1024 * 1024
  const chunkBytes = options.chunkBytes ?? 256 * 1024
  const reapIntervalMs = options.reapIntervalMs ?? 1000
  const report: DiagnosticReporter = ctx.report
  // Drops are reported from each ring's DropLedger, once across collector
  // restarts; the producer streams' own drop reports would count them again.
  const streamReport: DiagnosticReporter = (d) => {
    if (d.code !== 'dropped') report(d)
  }

  return new Observable<LogEntry | EntryBatch>((subscriber) => {
    const handle = acquireSession(app, options.env ?? ctx.env)
    const { paths } = handle.session
    ensureMemoryDir(paths)
    const rings = new Map<string, RingState>()
    const refused = new Set<string>()
    const uninitialised = new Map<string, number>()
    // Release points, one per run of frames read (one index), in read
    // order: once the source's first `end` positions are done, the ring's
    // HEAD may move to `pos` and the run's slot (its index, whose views point
    // into the ring) may be reused. Within a run, HEAD follows the
    // acknowledgements frame by frame (see releaseWithin), so a collector
    // that is killed re-reads at most what its sinks had in flight. A run
    // takes one position per entry of its index (see EntryBatch).
    let releases: Release[] = []
    let releaseHead = 0
    /** Positions emitted (and, below, read but not yet emitted). */
    let emitted = 0
    let pendingPositions = 0
    let acked = 0
    let pending: EntryBatch[] = []
    let next = 0
    const pool: Slot[] = []
    const takeSlot = (): Slot =>
      pool.pop() ?? { index: new EntryIndex({ checkCrc: true, maxFrameSize }), rows: new Int32Array(256) }
    const freeSlot = (slot: Slot) => {
      slot.index.release()
      if (pool.length < SLOT_POOL) pool.push(slot)
    }
    let scheduled: NodeJS.Immediate | undefined
    let asleep = false
    let stopped = false
    const demand = new DemandWait(ctx.demand, () => schedule())

    const release = (n: number) => {
      acked = n
      // After teardown the rings are no longer read, only released (see closeSettled).
      if (!stopped) checkRings()
      let last: RingState | undefined
      let lastPos = 0
      while (releaseHead < releases.length && (releases[releaseHead] as Release).end <= n) {
        const point = releases[releaseHead] as Release
        freeSlot(point.slot)
        if (last !== undefined && last !== point.state && !last.reaped) last.ring.advanceHead(lastPos)
        last = point.state
        lastPos = point.pos
        releaseHead++
      }
      if (last !== undefined && !last.reaped) last.ring.advanceHead(lastPos)
      const partial = releases[releaseHead]
      if (partial !== undefined && n > partial.base && !partial.state.reaped) releaseWithin(partial, n)
      if (releaseHead > 4096 && releaseHead * 2 > releases.length) {
        releases = releases.slice(releaseHead)
        releaseHead = 0
      }
      if (stopped) closeSettled()
      else maybeReapAll(false)
    }
    ctx.onAck(release)

    /**
     * Moves HEAD past the frames of a run whose entries are done up to
     * position n (base < n < end): to the end of the frame of the last entry
     * done when it is that frame's last entry, else to that frame's start.
     */
    const releaseWithin = (point: Release, n: number) => {
      const index = point.slot.index
      const row = n - point.base - 1
      const f = index.entryFrame[row] as number
      const lastRow = (index.frameFirstEntry[f] as number) + (index.frameEntryCount[f] as number) - 1
      const boundary = row === lastRow ? (index.frameEnd[f] as number) : (index.frameStart[f] as number)
      point.state.ring.advanceHead((point.start + (boundary - point.at)) >>> 0)
    }

    /**
     * After teardown, acknowledgements still come (the sinks write what the
     * source handed over before it completed): a ring is closed only once
     * everything read from it is released, so its HEAD can still move.
     */
    const closeSettled = () => {
      for (const state of rings.values()) {
        if (state.ring.head !== state.read) continue
        state.ring.close()
        rings.delete(state.file)
      }
    }

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
      // Taken before READ moves back: the ledger learns what the last collector counted.
      const drops = new DropLedger(ring)
      // Resume where the last collector's acknowledgements stopped: what it
      // read but had not seen done is read again (duplicates are identified by pid and seq).
      const head = ring.head
      ring.setRead(head)
      ring.setAsleep(false)
      ring.beat(Date.now())
      uninitialised.delete(file)
      const label = `shm producer ${name.slice(0, -RING_SUFFIX.length)}`
      // A ring whose producer is already gone (left by an earlier run) is salvaged whole.
      const gone = ring.state === STATE_CLOSED || !ring.producerAlive()
      const state: RingState = {
        file,
        ring,
        label,
        stream: new ProducerStream(streamReport, label),
        drops,
        scanner: new FrameScanner(maxFrameSize),
        read: head,
        salvaged: 0,
        gone,
        reaped: false,
      }
      rings.set(file, state)
      // Drops made while no collector read: reported now, once.
      reportDrops(state)
    }

    const reportDrops = (state: RingState) => {
      // Asked every turn: the ring keeps what the hello said for the next collector.
      const reasonsKnown = state.drops.reasonsKnown(state.stream.hello)
      const drops = state.drops.take()
      if (drops.dropped === 0) return
      reportProducerDrops(report, state.label, state.ring.pid, drops, reasonsKnown)
    }

    /** Stops reading a ring that can no longer be trusted; it is left in place. */
    const refuse = (state: RingState, why: string, reason: string) => {
      // Zeros read from a file cut short look like anything: the cut is the reason.
      if (reason !== 'truncated' && !state.ring.whole()) return refuse(state, TRUNCATED, 'truncated')
      state.reaped = true
      rings.delete(state.file)
      refused.add(state.file)
      state.ring.close()
      report({
        code: 'ring_invalid',
        message: `ring file ${state.file} ${why}: it is no longer read; remove it if no producer writes it`,
        details: { file: state.file, reason },
      })
    }

    /**
     * Refuses the rings a read found cut short by another process. Such a
     * read does not kill the collector: the rings' mappings are watched
     * (Ring#whole, native.ts open), it reads zeros, which no frame check
     * accepts, and counts a fault, looked at here (a load per ring).
     */
    const checkRings = () => {
      for (const state of rings.values()) if (!state.ring.whole()) refuse(state, TRUNCATED, 'truncated')
    }

    /** A ring cut short where no read went yet is found by its size (an fstat per ring, at each beat). */
    const checkSizes = () => {
      for (const state of rings.values()) if (!state.ring.intact()) refuse(state, TRUNCATED, 'truncated')
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

    /**
     * Reads whole frames of one ring, up to the budget, as batches: each run
     * of whole frames that lies in one piece in the ring becomes one batch
     * whose entries are views into the ring (a frame that wraps is copied).
     * Returns the bytes read.
     */
    const readRing = (state: RingState, budget: number): number => {
      const ring = state.ring
      const tail = ring.tail
      let p = state.read
      // A TAIL behind READ (or past HEAD + capacity) would read as ~4 GiB of data.
      if (!ring.inOrder(p)) {
        refuse(state, `has its tail (${tail}) out of order with its read position (${p})`, 'positions')
        return 0
      }
      const start = p
      let garbage = 0
      let tooLarge = 0
      let largest = 0
      // After garbage, frames are looked for with the scanner, whose checks
      // are budgeted (scan.ts), until one is found.
      let resync = false
      while (p !== tail && (p - start) >>> 0 < budget) {
        const available = (tail - p) >>> 0
        const at = p & ring.mask
        const contiguous = Math.min(available, ring.capacity - at)
        const slot = takeSlot()
        const index = slot.index
        if (!resync) {
          // Whole frames that lie in one piece from p, up to the chunk (or the
          // one frame, when it alone is larger), CRCs checked.
          const room = budget - ((p - start) >>> 0)
          index.index(ring.data, at, at + Math.min(contiguous, room))
          if (index.frames === 0 && index.stop === 'partial' && contiguous > room) {
            // The first frame is larger than what is left of the budget: that frame alone.
            index.index(ring.data, at, at + Math.min(contiguous, FRAME_HEADER_SIZE + ring.frameLengthAt(p)))
          }
          if (index.frames > 0) {
            garbage += takeRun(state, slot, p, at)
            p = (p + (index.end - at)) >>> 0
            continue
          }
        }
        // A whole frame over this source's maxFrameSize (its producer's own
        // limit is higher): skipped as one frame, and said so, not as garbage.
        // Only at a frame boundary (not while resynchronising through garbage,
        // where a stray header could make it skip real frames).
        const large = resync ? 0 : oversizeFrameAt(ring, p, available, maxFrameSize)
        if (large > 0) {
          freeSlot(slot)
          tooLarge++
          largest = Math.max(largest, large - FRAME_HEADER_SIZE)
          p = (p + large) >>> 0
          resync = false
          continue
        }
        // Not a run of whole frames here: a frame that wraps (copied, then
        // read as a batch of its own), the frame that ends a run of garbage,
        // or garbage (skipped a byte at a time, counted).
        const frame = state.scanner.at(ring, p, available)
        if (frame === undefined) {
          freeSlot(slot)
          garbage++
          state.scanner.skipped(1)
          p = (p + 1) >>> 0
          resync = true
          continue
        }
        resync = false
        const bytes =
          frame.buf === ring.data
            ? ring.data
            : Buffer.from(frame.buf.subarray(frame.at, frame.at + frame.size))
        const from = bytes === ring.data ? frame.at : 0
        index.index(bytes, from, from + frame.size)
        garbage += takeRun(state, slot, p, from)
        p = (p + frame.size) >>> 0
      }
      if (tooLarge > 0) {
        report({
          code: 'frame_too_large',
          level: 50,
          message: `${ring.path}: skipped ${tooLarge} frame${tooLarge === 1 ? '' : 's'} over this source's maxFrameSize of ${maxFrameSize} bytes (the largest ${largest}): the producer's maxFrameSize is larger; raise the shm source's maxFrameSize to at least the producers' (their entries in those frames are lost, and reported as missing seqs)`,
          count: tooLarge,
          details: { file: ring.path, frames: tooLarge, largest, maxFrameSize },
        })
      }
      if (garbage > 0 || tooLarge > 0) {
        // Skipped bytes hold no entry: release them with what came before.
        const end = emitted + pendingPositions
        releases.push({ end, base: end, pos: p, start: p, at: 0, state, slot: takeSlot() })
        if (garbage > 0) {
          report({
            code: 'frame_corrupt',
            message: `${ring.path}: skipped ${garbage} bytes that were not valid frames`,
            count: garbage,
            details: { file: ring.path, bytes: garbage },
          })
        }
      }
      state.read = p
      ring.setRead(p)
      state.drops.published()
      reportDrops(state)
      return (p - start) >>> 0
    }

    /**
     * Takes the frames `slot.index` holds (they start at ring position p,
     * index byte `at`): drops, hellos, sequence checks, then one batch of the
     * entries to emit and its release point. Returns the bytes of frames
     * that were not valid (skipped, as garbage).
     */
    const takeRun = (state: RingState, slot: Slot, p: number, at: number): number => {
      const index = slot.index
      if (slot.rows.length < index.entries)
        slot.rows = new Int32Array(Math.max(index.entries, slot.rows.length * 2))
      const rows = slot.rows
      let n = 0
      let garbage = 0
      const now = Date.now()
      for (let f = 0; f < index.frames; f++) {
        const frameStart = index.frameStart[f] as number
        const frameEnd = index.frameEnd[f] as number
        if (((index.frameFlags[f] as number) & FRAME_MALFORMED) !== 0) {
          garbage += frameEnd - frameStart
          continue
        }
        const position = (p + (frameStart - at)) >>> 0
        const kind = index.frameKind[f] as number
        if (kind === KIND_BATCH) {
          if ((index.frameDropped[f] as number) > 0)
            state.drops.batch(decodeBatchDrops(index.buf, frameStart + FRAME_HEADER_SIZE, frameEnd), position)
          n = state.stream.acceptRows(index, f, rows, n, now)
        } else if (kind !== KIND_NONE) {
          // Hello, heartbeat, goodbye: rare, decoded.
          const frame = decodeFrame(index.buf, frameStart + FRAME_HEADER_SIZE, frameEnd)
          state.drops.frame(frame, position)
          state.stream.accept(frame)
        }
      }
      if (state.gone) state.salvaged += n
      // At most MAX_BATCH_ENTRIES a batch: consecutive row ranges of the index, views of one rows array.
      let firstRow = 0
      for (let k = 0; k < n; k += MAX_BATCH_ENTRIES) {
        const length = Math.min(MAX_BATCH_ENTRIES, n - k)
        const endRow = k + length < n ? (rows[k + length - 1] as number) + 1 : index.entries
        pending.push(new EntryBatch(index, rows.subarray(k, k + length), length, firstRow, endRow - firstRow))
        firstRow = endRow
      }
      const base = emitted + pendingPositions
      if (n > 0) pendingPositions += index.entries
      releases.push({
        end: base + (n > 0 ? index.entries : 0),
        base,
        pos: (p + (index.end - at)) >>> 0,
        start: p,
        at,
        state,
        slot,
      })
      return garbage
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
      let touched = false
      for (;;) {
        if (demand.paused()) return
        if (next < pending.length) {
          const batch = pending[next++] as EntryBatch
          emitted += batch.positions
          pendingPositions -= batch.positions
          subscriber.next(batch)
          continue
        }
        pending = []
        next = 0
        if (budget <= 0 || ctx.signal.aborted) break
        if (!touched) {
          // The first touch of the rings in this turn: check them, and beat (a read turn).
          touched = true
          checkRings()
          beat()
        }
        const state = nextRingWithData()
        if (state === undefined) break
        budget -= readRing(state, Math.min(chunkBytes, budget))
        // Frames that held nothing new (hello, heartbeats, duplicates) are done already.
        if (emitted + pendingPositions <= acked) release(acked)
      }
      if (ctx.signal.aborted) return finish()
      if (!touched) checkRings()
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
      // Rings that said goodbye are reaped now; whether a producer died is the reaper's question (a syscall per ring).
      else maybeReapAll(false)
    }

    /** `announced`: the doorbell brought a new ring's announcement, so the directory is listed. */
    const wake = (announced = false) => {
      checkRings()
      schedule()
      if (announced) scan()
      if (!asleep) return
      asleep = false
      for (const state of rings.values()) state.ring.setAsleep(false)
    }

    /** `probe`: also ask whether each producer still runs, not only whether it closed its ring. */
    const maybeReapAll = (probe: boolean) => {
      for (const state of rings.values()) maybeReap(state, probe)
    }

    const maybeReap = (state: RingState, probe: boolean) => {
      if (state.reaped) return
      const ring = state.ring
      if (!state.gone) {
        const closed = ring.state === STATE_CLOSED
        if (!closed && (!probe || ring.producerAlive())) return
        state.gone = true
      }
      // Drained and done: every byte read, and released end to end.
      const drained = state.read === ring.tail && ring.head === ring.tail
      // Positions read from a file cut short are zeros: not a drained ring, a refused one.
      if (!ring.whole()) return refuse(state, TRUNCATED, 'truncated')
      if (!drained) {
        if (state.read !== ring.tail && asleep) wake()
        return
      }
      state.reaped = true
      const stats = state.stream.stats
      // Drops the producer could not announce before it exited (the header has them).
      reportDrops(state)
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
      ring.close()
      rings.delete(state.file)
    }

    /** Tells the producers a collector is reading (see layout.ts, CONSUMER_BEAT). */
    const beat = () => {
      const now = Date.now()
      for (const state of rings.values()) state.ring.beat(now)
    }

    const finish = () => {
      stopped = true
      subscriber.complete()
    }

    const doorbell = new DoorbellListener(doorbellPath(paths.appDir), (announced) => wake(announced))
    handle.session.setTransport('shm', { dir: paths.memoryDir, doorbell: doorbell.path })
    const reaper = setInterval(() => {
      checkRings()
      scan()
      maybeReapAll(true)
      if (asleep && hasData()) wake()
    }, reapIntervalMs).unref()
    // Beats also while idle or held back by demand: the collector is there, and will read.
    const beater = setInterval(() => {
      checkRings()
      checkSizes()
      beat()
    }, BEAT_INTERVAL_MS).unref()
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
      clearInterval(beater)
      demand.dispose()
      ctx.signal.removeEventListener('abort', onAbort)
      checkRings()
      for (const state of rings.values()) {
        // A clean close: producers stop waiting for this collector at once.
        state.ring.setAsleep(false)
        Atomics.store(state.ring.header, CONSUMER_BEAT_INDEX, 0)
      }
      closeSettled()
      // Acknowledgements that never come (a batch a sink gave up, left for the
      // next collector) must not keep the rest open for the life of the process.
      setTimeout(() => {
        for (const state of rings.values()) state.ring.close()
        rings.clear()
      }, LATE_ACK_MS).unref()
      doorbell.close()
      handle.release()
    }
  })
}

const TRUNCATED = 'was truncated by another process'

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

/**
 * The size of the frame at `p` when it is a whole frame announcing more than
 * `maxFrameSize` (a producer's limit above the source's), else 0: its header
 * is valid, all of it is in the ring, and what follows it is the next frame's
 * header or the end of the data (so garbage that happens to start like a
 * header does not make the source skip real frames).
 */
function oversizeFrameAt(ring: Ring, p: number, available: number, maxFrameSize: number): number {
  if (available < FRAME_HEADER_SIZE) return 0
  if (
    ring.byteAt(p) !== FRAME_MAGIC_0 ||
    ring.byteAt(p + 1) !== FRAME_MAGIC_1 ||
    ring.byteAt(p + 2) !== FRAME_VERSION
  )
    return 0
  const length = ring.frameLengthAt(p)
  if (length <= maxFrameSize) return 0
  const size = FRAME_HEADER_SIZE + length
  if (size > available) return 0
  if (
    size < available &&
    (ring.byteAt(p + size) !== FRAME_MAGIC_0 || ring.byteAt(p + size + 1) !== FRAME_MAGIC_1)
  )
    return 0
  return size
}
