// The NATS source: JetStream → a central pipeline, through a durable pull
// consumer. Collectors that name the same `durable` share its messages; a
// message is acknowledged to JetStream only when every entry in it is done
// end to end (written by every sink, or dropped or folded by an operator), so
// a collector that is killed leaves its unacknowledged messages to be
// redelivered, after ackWaitMs, to another.
//
//   fetch (≤ batch, ≤ maxAckPending − unacked) ──▶ index the frames (or parse
//   the lines) ──▶ emit while there is demand ──▶ onAck(n) ──▶ ack every
//   message whose last position ≤ n
//
// A message takes one position per entry of its index (EntryBatch): its
// release point is the position after its last entry. Entries keep the
// host, pid and seq they were logged with, so a redelivered entry is
// recognisable, and `dedupe` removes it. While a message waits for its
// sinks, `working()` tells JetStream to wait longer than ackWaitMs.
//
// A consumer deleted under the source is made again where the readers left
// off: from the stream sequence after its ack floor, or from the earliest
// message this source still holds unacknowledged; what came after the floor
// may come again; a new stream (another `created` time) is read from its start. The
// floor is the server's (asked again at most every FLOOR_EVERY_MS while
// acknowledgements go out): only the server's has no gap below it across
// every collector sharing the durable; one raised by this source's own acks
// would skip a message another collector holds, or one sent again after a
// peer's nak. A floor that is a little old only means a few more repeats,
// which `dedupe` removes.

import {
  type DiagnosticReporter,
  entryFromJsonLine,
  type LogEntry,
  MAX_BATCH_ENTRIES,
  type SourceContext,
} from '@logkit/core'
import { EntryBatch, EntryIndex } from '@logkit/core/wire'
import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream'
import { Connection, clientOptions } from './connection.js'
import { errorText, failureKind, isNotFound, natsError } from './errors.js'
import { permissionError } from './nats-sink.js'
import type { NatsSourceConfig } from './options.js'

export interface NatsSourceStatus {
  readonly [key: string]: unknown
  readonly server: string
  /** Messages delivered to this collector and not yet acknowledged (their entries are in the pipeline). */
  readonly pendingAcks: number
  readonly delivered: number
  readonly acknowledged: number
  /** Messages that came a second time or more (another reader did not acknowledge them). */
  readonly redeliveries: number
  readonly reconnects: number
  /** Why the consumer could not be had or pulled from, last ('' once pulling works). */
  readonly lastError: string
  /** Failed attempts to get or pull from the consumer (each is retried). */
  readonly retries: number
  /** The consumer's ack floor (a stream sequence) as the server last told it: a consumer made again starts after it. */
  readonly ackFloor: number
}

export type NatsSourceObservable = Observable<LogEntry | EntryBatch> & { status(): NatsSourceStatus }

import { Observable } from 'rxjs'

const NS = 1_000_000
/** Longest a pull waits for messages before asking again (and looking at the abort signal). */
const PULL_EXPIRES_MS = 1000
/** Longest the source waits at close for what it emitted to be acknowledged. */
const SETTLE_MS = 5000
/** Indexes kept for reuse. */
const INDEX_POOL = 64
/** Waits between failed attempts to get or pull from the consumer: doubled each time, from the first to the last. */
const RETRY_FIRST_MS = 250
const RETRY_MAX_MS = 5000
/** The consumer's ack floor is asked for at most this often, after acknowledgements. */
const FLOOR_EVERY_MS = 1000

interface Release {
  /** The source's position after the message's last entry. */
  readonly end: number
  readonly msg: JsMsg
  readonly index: EntryIndex | undefined
  /** The stream (its `created` time) the message came from. */
  readonly stream: string
}

/** Where a re-made consumer starts: the stream it read (its `created` time) and the sequence to read from next. */
export interface ConsumerPosition {
  stream: string
  /** The stream sequence acknowledged last without a gap before it (0: none). */
  floor: number
}

type Context = Pick<SourceContext, 'demand' | 'signal' | 'report' | 'onAck'> &
  Partial<Pick<SourceContext, 'id' | 'app' | 'dir'>>

/**
 * The consumer is there: made when missing (durable, explicit acks), left
 * as it is when it exists. Made again after `seen` (the same stream, the
 * consumer deleted) it starts after seen.floor, or at `firstHeld` (the
 * earliest message still unacknowledged) when that is earlier; made on a
 * new stream, or never seen, from the start. Returns the position now and
 * the sequence it was made from (undefined: it existed).
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  config: NatsSourceConfig,
  seen?: ConsumerPosition,
  firstHeld?: number,
): Promise<{ position: ConsumerPosition; madeFrom: number | undefined }> {
  const stream = String((await jsm.streams.info(config.stream)).created)
  try {
    const info = await jsm.consumers.info(config.stream, config.durable)
    return { position: { stream, floor: info.ack_floor.stream_seq }, madeFrom: undefined }
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
  const same = seen !== undefined && seen.stream === stream
  const from = same ? Math.min(seen.floor + 1, firstHeld ?? Number.POSITIVE_INFINITY) : 1
  await jsm.consumers.add(config.stream, {
    durable_name: config.durable,
    ack_policy: AckPolicy.Explicit,
    ...(from > 1
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from }
      : { deliver_policy: DeliverPolicy.All }),
    ack_wait: config.ackWaitMs * NS,
    max_ack_pending: config.maxAckPending,
    ...(config.filter === undefined ? {} : { filter_subject: config.filter }),
  })
  return { position: { stream, floor: same ? from - 1 : 0 }, madeFrom: from }
}

export function createNatsSource(config: NatsSourceConfig, ctx: Context): NatsSourceObservable {
  // Credentials and TLS files are read now: one that cannot be read fails create(), so start-up.
  const name = `logkit-${ctx.app || 'app'}-${ctx.id ?? 'nats'}-${config.durable}`
  const options = clientOptions(config, name, ctx.dir)
  const state = {
    conn: undefined as Connection | undefined,
    releases: [] as Release[],
    head: 0,
    delivered: 0,
    acknowledged: 0,
    redeliveries: 0,
    lastError: '',
    retries: 0,
    ackFloor: 0,
  }
  const observable = new Observable<LogEntry | EntryBatch>((subscriber) => {
    const report: DiagnosticReporter = ctx.report
    const conn = new Connection(options, report)
    state.conn = conn
    const pool: EntryIndex[] = []
    let emitted = 0
    let acked = 0
    let stopped = false
    let current: ConsumerMessages | undefined
    /** Messages fetched and not yet emitted (at most one pull's). */
    const held: JsMsg[] = []
    /** Wakes the pull loop when acknowledgements made room. */
    let wake: (() => void) | undefined
    let redeliveredUnreported = 0
    let badUnreported = 0
    /** Kinds of consumer trouble reported since pulling last worked. */
    const troubles = new Set<string>()
    /** The stream read and its ack floor, as last seen; undefined before the consumer was first had. */
    let position: ConsumerPosition | undefined
    /** The wait before the next attempt after a failure; back to the first once pulling works. */
    let retryMs = RETRY_FIRST_MS
    const backoff = async () => {
      state.retries++
      await Promise.race([new Promise((r) => setTimeout(r, retryMs)), aborted])
      retryMs = Math.min(RETRY_MAX_MS, retryMs * 2)
    }

    /**
     * The consumer could not be had or pulled from: a missing permission ends
     * the source (LOGKIT_ERR_NATS_AUTH); anything else is shown in status,
     * reported the first time of its kind (not while disconnected: that is
     * said already), and retried.
     */
    const trouble = (err: unknown): void => {
      const kind = failureKind(err)
      if (kind === 'permission') {
        // Ending here skips settle: what was fetched and not emitted goes back now.
        for (const msg of held.splice(0)) msg.nak()
        throw permissionError(err)
      }
      if (closedForGood(err)) {
        for (const msg of held.splice(0)) msg.nak()
        throw natsError(
          'LOGKIT_ERR_NATS_CONNECT',
          `the NATS connection closed for good (${errorText(err)})`,
          {
            cause: err,
          },
        )
      }
      const text = errorText(err)
      state.lastError = text
      // By JetStream's error code: "stream not found" and "consumer not found" are two kinds.
      const key = `${kind}:${apiCode(err) ?? String((err as Error | undefined)?.name)}`
      if (!conn.connected || troubles.has(key)) return
      troubles.add(key)
      report({
        code: 'nats_consumer_unavailable',
        message: `consumer ${config.durable} of stream ${config.stream}: ${text}; retrying${kind === 'not_found' ? ' (a missing consumer is made again)' : ''}`,
      })
    }
    const untroubled = () => {
      state.lastError = ''
      troubles.clear()
      retryMs = RETRY_FIRST_MS
    }

    const unacked = () => state.releases.length - state.head

    // The server's ack floor, asked for once a second at most, after acknowledgements (trailing).
    let floorFrom: JetStreamManager | undefined
    let floorTimer: ReturnType<typeof setTimeout> | undefined
    const askFloorSoon = () => {
      // Not after teardown: the acknowledgements that still come then close the connection.
      if (stopped || floorTimer !== undefined || floorFrom === undefined) return
      floorTimer = setTimeout(askFloor, FLOOR_EVERY_MS)
      floorTimer.unref()
    }
    const askFloor = () => {
      const jsm = floorFrom
      const at = position
      if (jsm === undefined || at === undefined) {
        floorTimer = undefined
        return
      }
      jsm.consumers
        .info(config.stream, config.durable)
        .then(
          (info) => {
            // Only for the stream and consumer it was asked of (not one made again meanwhile).
            if (position === at) at.floor = state.ackFloor = Math.max(at.floor, info.ack_floor.stream_seq)
          },
          () => {}, // gone or unreachable: the floor stays as last told
        )
        .finally(() => {
          floorTimer = undefined
        })
    }

    const release = (n: number) => {
      acked = n
      const releases = state.releases
      while (state.head < releases.length && (releases[state.head] as Release).end <= n) {
        const r = releases[state.head] as Release
        r.msg.ack()
        state.acknowledged++
        if (r.index !== undefined) {
          r.index.release()
          if (pool.length < INDEX_POOL) pool.push(r.index)
        }
        state.head++
      }
      if (state.head > 1024 && state.head * 2 > releases.length) {
        state.releases = releases.slice(state.head)
        state.head = 0
      }
      askFloorSoon()
      wake?.()
      if (stopped && unacked() === 0) void conn.close()
    }
    ctx.onAck(release)

    // A message waiting for its sinks longer than ackWaitMs would be redelivered: say it is being worked on.
    const working = setInterval(
      () => {
        for (let i = state.head; i < state.releases.length; i++) (state.releases[i] as Release).msg.working()
        for (const msg of held) msg.working()
      },
      Math.max(500, Math.floor(config.ackWaitMs / 2)),
    )
    working.unref()

    const reportCounts = () => {
      if (redeliveredUnreported > 0) {
        report({
          code: 'nats_redelivered',
          message: `${redeliveredUnreported} messages were delivered again (a reader before did not acknowledge them): their entries may repeat; dedupe removes them`,
          count: redeliveredUnreported,
        })
        redeliveredUnreported = 0
      }
      if (badUnreported > 0) {
        report({
          code: 'nats_bad_message',
          message: `${badUnreported} entries or messages were neither logkit frames nor JSON entry lines: skipped`,
          count: badUnreported,
        })
        badUnreported = 0
      }
    }

    /** Emits the entries of one message and records its release point. */
    const take = (msg: JsMsg) => {
      state.delivered++
      if (msg.info.deliveryCount > 1) {
        state.redeliveries++
        redeliveredUnreported++
      }
      const data = msg.data
      const buf = Buffer.from(data.buffer, data.byteOffset, data.length)
      let index: EntryIndex | undefined
      if (buf.length >= 2 && buf[0] === 0x4c && buf[1] === 0x4b) {
        index = pool.pop() ?? new EntryIndex({ checkCrc: true })
        index.index(buf)
        if (index.stop !== 'end' || index.invalidEntries > 0)
          badUnreported += Math.max(1, index.invalidEntries)
        const rows = new Int32Array(index.entries)
        for (let first = 0; first < index.entries; first += MAX_BATCH_ENTRIES) {
          const last = Math.min(index.entries, first + MAX_BATCH_ENTRIES)
          let n = 0
          for (let r = first; r < last; r++) if (index.valid[r] !== 0) rows[first + n++] = r
          emitted += last - first
          subscriber.next(new EntryBatch(index, rows.subarray(first, first + n), n, first, last - first))
        }
      } else {
        for (const line of buf.toString('utf8').split('\n')) {
          if (line.trim() === '') continue
          const entry = entryFromJsonLine(line)
          if (entry === undefined) {
            badUnreported++
            continue
          }
          emitted++
          subscriber.next(entry)
        }
      }
      state.releases.push({ end: emitted, msg, index, stream: position?.stream ?? '' })
      // A message with nothing to wait for (all skipped) is done as soon as those before it are.
      if (emitted <= acked) release(acked)
    }

    // One message at a time, as it comes, while there is demand: a message
    // holds at most MAX_BATCH_ENTRIES per batch, so a queue gets at most that
    // beyond its capacity. What is fetched and not yet emitted stays
    // delivered (working() keeps it ours) and goes first.
    const emitHeld = () => {
      while (held.length > 0 && !ctx.demand.paused && !ctx.signal.aborted) take(held.shift() as JsMsg)
    }

    const aborted = new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve()
      ctx.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    const onAbort = () => {
      wake?.()
      current?.stop()
    }
    ctx.signal.addEventListener('abort', onAbort)

    const pull = async (first: Consumer) => {
      let consumer: Consumer | undefined = first
      while (!ctx.signal.aborted) {
        if (consumer === undefined) {
          // After a failed pull: the consumer (or its stream) may be gone; made again when missing.
          consumer = await acquire()
          continue
        }
        if (ctx.demand.paused) {
          await Promise.race([ctx.demand.ready(), aborted])
          continue
        }
        const room = config.maxAckPending - unacked() - held.length
        if (room <= 0) {
          await Promise.race([new Promise<void>((r) => (wake = r)), aborted])
          wake = undefined
          continue
        }
        try {
          current = await consumer.fetch({
            max_messages: Math.min(config.batch, room),
            expires: PULL_EXPIRES_MS,
          })
          for await (const msg of current) {
            held.push(msg)
            emitHeld()
          }
          if (state.lastError !== '' || retryMs !== RETRY_FIRST_MS) untroubled()
        } catch (err) {
          // The server went away, the consumer's leader moved, or the consumer
          // was deleted: the client reconnects; get the consumer again soon.
          if (!ctx.signal.aborted) {
            trouble(err)
            consumer = undefined
            await backoff()
          }
        } finally {
          current = undefined
        }
        // What the pull brought and demand did not let out yet: emitted as demand comes back.
        while (held.length > 0 && !ctx.signal.aborted) {
          await Promise.race([ctx.demand.ready(), aborted])
          emitHeld()
        }
        reportCounts()
      }
    }

    /** The earliest stream sequence of the current stream still held unacknowledged, if any. */
    const firstHeld = (): number | undefined => {
      let first: number | undefined
      const consider = (seq: number) => {
        if (first === undefined || seq < first) first = seq
      }
      for (let i = state.head; i < state.releases.length; i++) {
        const r = state.releases[i] as Release
        if (r.stream === position?.stream) consider(r.msg.seq)
      }
      for (const msg of held) consider(msg.seq)
      return first
    }

    /** The consumer, made when missing; undefined once aborted. */
    const acquire = async (): Promise<Consumer | undefined> => {
      const nc = await Promise.race([conn.ready, aborted.then(() => undefined)])
      while (nc !== undefined && !ctx.signal.aborted) {
        try {
          const jsm = await jetstreamManager(nc)
          const { position: now, madeFrom } = await ensureConsumer(jsm, config, position, firstHeld())
          if (madeFrom !== undefined && position !== undefined) {
            report({
              code: 'nats_consumer_recreated',
              message: `consumer ${config.durable} of stream ${config.stream} was gone: made again, ${now.stream === position.stream ? `reading on from stream sequence ${madeFrom} (the same stream)` : 'reading from the start (the stream is new)'}`,
              details: { startSeq: madeFrom, sameStream: now.stream === position.stream },
            })
          }
          position = now
          state.ackFloor = now.floor
          floorFrom = jsm
          return await jetstream(nc).consumers.get(config.stream, config.durable)
        } catch (err) {
          if (ctx.signal.aborted) break
          // The stream may not exist yet (no host has published), or no leader is elected yet.
          trouble(err)
          await backoff()
        }
      }
      return undefined
    }

    /**
     * After the last pull: what was fetched and not emitted goes back at once
     * (nak: another collector may take it now), and the source completes once
     * what it emitted is acknowledged (the pipeline's sinks write on while the
     * sources drain), at most SETTLE_MS, with the acknowledgements flushed to
     * the server: a collector that exits right after close does not leave
     * them unsent (they would come again, as duplicates).
     */
    const settle = async () => {
      for (const msg of held.splice(0)) msg.nak()
      const deadline = Date.now() + Math.min(config.ackWaitMs, SETTLE_MS)
      while (unacked() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      if (unacked() === 0) await conn.close()
    }

    acquire()
      .then((consumer) => (consumer === undefined ? undefined : pull(consumer).then(settle)))
      .then(
        () => {
          reportCounts()
          subscriber.complete()
        },
        (err: unknown) => subscriber.error(err),
      )

    return () => {
      stopped = true
      clearInterval(working)
      clearTimeout(floorTimer)
      ctx.signal.removeEventListener('abort', onAbort)
      current?.stop()
      // Acknowledgements still come after teardown (the sinks write what was
      // emitted): the connection closes once the last message is acknowledged.
      if (unacked() === 0) void conn.close()
    }
  })
  return Object.assign(observable, {
    status: (): NatsSourceStatus => ({
      server: state.conn?.server ?? '',
      pendingAcks: state.releases.length - state.head,
      delivered: state.delivered,
      acknowledged: state.acknowledged,
      redeliveries: state.redeliveries,
      reconnects: state.conn?.reconnects ?? 0,
      lastError: state.lastError,
      retries: state.retries,
      ackFloor: state.ackFloor,
    }),
  })
}

/** The client was closed for good (it does not reconnect): retrying cannot mend it. */
function closedForGood(err: unknown): boolean {
  for (let e = err as { name?: unknown; cause?: unknown } | undefined, n = 0; e != null && n < 5; n++) {
    if (e.name === 'ClosedConnectionError') return true
    e = e.cause as typeof e
  }
  return false
}

/** JetStream's error code of an API error (10059 stream not found, 10014 consumer not found), if it is one. */
function apiCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code
  return typeof code === 'number' ? code : undefined
}
