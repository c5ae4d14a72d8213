// The in-process transport: a logger and a pipeline in one process, joined by a
// bounded ring of encoded frames. For embedding logkit in one process, and for
// tests: frames are really encoded and decoded, as they would be across
// processes. A write copies the frame into the ring (no allocation per entry);
// memory is not durable, so frames are released as they are read.

import { Observable } from 'rxjs'
import type { DiagnosticReporter } from './diagnostics.js'
import type { LogEntry } from './entry.js'
import { FRAME_HEADER_SIZE, FRAME_LENGTH_OFFSET, FrameDecoder } from './framing.js'
import type { SourceContext } from './plugin.js'
import { ProducerStream } from './producer-stream.js'
import { DemandWait } from './runtime/demand.js'
import type { Transport } from './transport.js'

export type MemoryChannelPolicy = 'drop_newest' | 'drop_oldest'

export interface MemoryChannelOptions {
  /** Bound of the ring in bytes of encoded frames (default 8 MiB). */
  readonly capacityBytes?: number
  /** What a write into a full ring does (default drop_newest: the new frame is dropped and counted). */
  readonly policy?: MemoryChannelPolicy
  /** Bytes of frames read per turn of the event loop before the source yields (default 256 KiB). */
  readonly chunkBytes?: number
}

export interface MemoryChannelStats {
  /** Bytes of frames waiting to be read. */
  readonly queuedBytes: number
  /** Frames dropped by the policy (drop_oldest drops show at the collector as seq gaps). */
  readonly droppedFrames: number
}

export interface MemoryChannel {
  readonly transport: Transport
  /** The collector side; one subscriber at a time. */
  readonly source: (context: Pick<SourceContext, 'demand' | 'signal' | 'report'>) => Observable<LogEntry>
  readonly stats: () => MemoryChannelStats
}

export function createMemoryChannel(options: MemoryChannelOptions = {}): MemoryChannel {
  const capacity = options.capacityBytes ?? 8 * 1024 * 1024
  const policy = options.policy ?? 'drop_newest'
  const chunkBytes = options.chunkBytes ?? 256 * 1024
  const ring = Buffer.allocUnsafe(capacity)
  // head and tail count bytes ever read and written; their difference is what
  // waits. head always sits on a frame boundary.
  let head = 0
  let tail = 0
  let droppedFrames = 0
  let closed = false
  let wake: (() => void) | undefined
  const flushWaiters: (() => void)[] = []

  /** The frame length in the header at absolute offset `at` (the header may wrap). */
  const frameSizeAt = (at: number): number => {
    const o = (at + FRAME_LENGTH_OFFSET) % capacity
    const length =
      o + 4 <= capacity
        ? ring.readUInt32LE(o)
        : (ring[o] as number) |
          ((ring[(o + 1) % capacity] as number) << 8) |
          ((ring[(o + 2) % capacity] as number) << 16) |
          (((ring[(o + 3) % capacity] as number) << 24) >>> 0)
    return FRAME_HEADER_SIZE + length
  }

  const transport: Transport = {
    name: 'memory',
    write(frame) {
      const n = frame.length
      if (closed || n > capacity) {
        droppedFrames++
        return false
      }
      if (tail - head + n > capacity) {
        if (policy === 'drop_newest') {
          droppedFrames++
          return false
        }
        while (tail - head + n > capacity) {
          head += frameSizeAt(head)
          droppedFrames++
        }
      }
      const at = tail % capacity
      const first = Math.min(n, capacity - at)
      ring.set(first === n ? frame : frame.subarray(0, first), at)
      if (first < n) ring.set(frame.subarray(first), 0)
      const wasEmpty = tail === head
      tail += n
      // The doorbell rings only on the empty → non-empty edge.
      if (wasEmpty && wake !== undefined) {
        const w = wake
        wake = undefined
        w()
      }
      return true
    },
    flush() {
      if (head === tail) return Promise.resolve()
      return new Promise((resolve) => flushWaiters.push(resolve))
    },
    async close() {
      await transport.flush()
      closed = true
      wake?.()
    },
  }

  const source = (context: Pick<SourceContext, 'demand' | 'signal' | 'report'>) =>
    new Observable<LogEntry>((subscriber) => {
      const report: DiagnosticReporter = context.report
      const stream = new ProducerStream(report, 'memory producer')
      let pending: LogEntry[] = []
      let next = 0
      const decoder = new FrameDecoder({
        onFrame: (frame) => {
          for (const entry of stream.accept(frame)) pending.push(entry)
        },
      })
      let stopped = false
      let scheduled: NodeJS.Immediate | undefined
      const demand = new DemandWait(context.demand, () => schedule())
      // After intake stops, only the bytes written up to that moment are read.
      let readLimit = Number.POSITIVE_INFINITY

      /** Reads whole frames from head, up to `budget` bytes; returns bytes read. */
      const readFrames = (budget: number): number => {
        const end = Math.min(tail, readLimit)
        const start = head
        while (head < end && head - start < budget) {
          const at = head % capacity
          const size = frameSizeAt(head)
          if (at + size <= capacity) {
            // Contiguous frames go to the decoder as one view.
            let run = size
            while (head + run < end && run < budget) {
              const next = frameSizeAt(head + run)
              if (at + run + next > capacity) break
              run += next
            }
            decoder.push(ring.subarray(at, at + run))
            head += run
          } else {
            const scratch = Buffer.allocUnsafe(size)
            ring.copy(scratch, 0, at, capacity)
            ring.copy(scratch, capacity - at, 0, size - (capacity - at))
            decoder.push(scratch)
            head += size
          }
        }
        return head - start
      }

      const drain = () => {
        scheduled = undefined
        // Entries decoded but not yet emitted are handed over one by one while
        // there is demand; new frames are read only once they are all out.
        let budget = chunkBytes
        while (!stopped) {
          if (demand.paused()) return
          if (next < pending.length) {
            subscriber.next(pending[next++] as LogEntry)
            continue
          }
          pending = []
          next = 0
          if (budget <= 0 || head >= Math.min(tail, readLimit)) break
          budget -= readFrames(budget)
        }
        if (head === tail) for (const resolve of flushWaiters.splice(0)) resolve()
        if (stopped) return
        if (head < Math.min(tail, readLimit)) schedule()
        else if (readLimit !== Number.POSITIVE_INFINITY || closed) finish()
        else wake = schedule
      }
      const schedule = () => {
        scheduled ??= setImmediate(drain)
      }
      const finish = () => {
        stopped = true
        const skipped = decoder.stats.corrupt + decoder.stats.malformed
        if (skipped > 0) {
          report({ code: 'frame_corrupt', message: `skipped ${skipped} corrupt frames`, count: skipped })
        }
        subscriber.complete()
      }
      const onAbort = () => {
        // Stop intake: what is already in the ring is still read, then the source completes.
        readLimit = tail
        wake = undefined
        schedule()
      }
      if (context.signal.aborted) onAbort()
      else context.signal.addEventListener('abort', onAbort)
      schedule()
      return () => {
        stopped = true
        wake = undefined
        if (scheduled) clearImmediate(scheduled)
        demand.dispose()
        context.signal.removeEventListener('abort', onAbort)
      }
    })

  return {
    transport,
    source,
    stats: () => ({ queuedBytes: tail - head, droppedFrames }),
  }
}
