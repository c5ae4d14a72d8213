// The NATS sink: a per-host collector's entries → JetStream. A write resolves
// only once JetStream has acknowledged every message of it (stored on the
// stream's replicas), so the runtime acknowledges upstream, and the shm ring
// on the host releases, only what the cluster has stored.
//
//   write / writeEntries ──▶ MessageMaker (by subject) ──▶ publish, at most
//   maxInFlight unacknowledged ──▶ every PubAck ──▶ resolve
//
// A publish that fails (no server, no stream leader while one is elected, the
// ack timing out) fails the write; the runtime retries it by its policy
// (block: held until it goes through). The retry publishes the same
// messages with the same ids, and JetStream drops those it had stored.
// Reconnecting is the client's (forever); the first connection is retried
// by Connection, so a sink whose server is down at start holds its entries
// (the runtime's queue fills, demand pauses, producers' rings fill and
// block) and delivers them once the server is up.
//
// Only start-up (openNatsSink) fails for good: once started, every failure
// is retryable, so the runtime holds the write under `block` and nothing is
// acknowledged that JetStream did not store. A stream deleted with
// `stream.create: false`, its subjects edited, a permission revoked: the
// write fails, is reported (nats_sink_blocked, at most once per kind per
// REPORT_INTERVAL_MS), and the stream is checked again on the next write,
// paced by the runtime's backoff, until the operator mends it.

import type { DiagnosticReporter, LogEntry, LogkitError, Sink } from '@logkit/core'
import type { EntryBatch } from '@logkit/core/wire'
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream'
import { CONNECT_GRACE_MS, Connection, clientOptions, within } from './connection.js'
import { errorText, failureKind, isNotFound, type NatsErrorCode, natsError } from './errors.js'
import { MessageMaker, type OutMessage } from './messages.js'
import type { NatsSinkConfig, StreamConfig } from './options.js'
import { subjectMatches } from './subjects.js'

export interface NatsSinkContext {
  readonly report: DiagnosticReporter
  readonly id?: string | undefined
  readonly app?: string | undefined
  /** The folder relative creds and TLS paths are relative to. */
  readonly dir?: string | undefined
}

export interface NatsSinkStatus {
  readonly [key: string]: unknown
  /** The server connected to, '' while disconnected. */
  readonly server: string
  /** Messages published and not yet acknowledged by JetStream. */
  readonly inFlight: number
  readonly published: number
  readonly acknowledged: number
  /** Messages JetStream had stored already (a retried write's). */
  readonly duplicates: number
  readonly reconnects: number
}

export interface NatsSink extends Sink {
  status(): NatsSinkStatus
}

const NS = 1_000_000
/** Bytes of a message left for its headers (Nats-Msg-Id) under the server's max_payload. */
const HEADER_ROOM = 1024
/** The same kind of nats_sink_blocked is reported at most once in this long. */
const REPORT_INTERVAL_MS = 60_000

/** The sink, connecting in the background; see openNatsSink for the one that reports bad credentials at once. */
export function createNatsSink(config: NatsSinkConfig, ctx: NatsSinkContext): NatsSink {
  return new NatsJetStreamSink(config, ctx)
}

/**
 * The sink, after waiting up to CONNECT_GRACE_MS for its first connection: an
 * error that retrying does not mend (credentials, TLS, a stream that cannot
 * be made) is thrown here, at start-up; a server that is not up yet is waited
 * for in the background.
 */
export async function openNatsSink(config: NatsSinkConfig, ctx: NatsSinkContext): Promise<NatsSink> {
  const sink = new NatsJetStreamSink(config, ctx)
  try {
    await within(sink.started, CONNECT_GRACE_MS)
  } catch (err) {
    // A failure that may mend (a stream call timed out while a cluster elects
    // a leader) is left to the writes, which retry it.
    if ((err as { retryable?: boolean }).retryable === false) {
      await sink.close()
      throw err
    }
  }
  return sink
}

class NatsJetStreamSink implements NatsSink {
  readonly #config: NatsSinkConfig
  readonly #report: DiagnosticReporter
  readonly #conn: Connection
  readonly #maker: MessageMaker
  /** Resolves once connected and the stream is there; replaced after a failure that may mend. */
  #ready: Promise<JetStreamClient>
  readonly started: Promise<unknown>
  /** Every publish not yet answered, of this write or of one cut short by closing(): maxInFlight bounds them all. */
  readonly #inFlight = new Set<Promise<void>>()
  #published = 0
  #acknowledged = 0
  #duplicates = 0
  #closing = false
  #closed = false
  /** Rejects every wait of the current write when closing() finds no server to finish with. */
  #abort: ((err: Error) => void) | undefined
  #tooLargeReported = 0
  /** A publish found no stream and it is being made again (said once until a publish goes through). */
  #streamMissing = false
  #invalidReported = 0
  /** When each kind of nats_sink_blocked was reported last. */
  readonly #blockedReported = new Map<string, number>()

  constructor(config: NatsSinkConfig, ctx: NatsSinkContext) {
    this.#config = config
    this.#report = ctx.report
    const name = `logkit-${ctx.app || 'app'}-${ctx.id ?? 'nats'}`
    this.#conn = new Connection(clientOptions(config, name, ctx.dir), ctx.report)
    this.#maker = new MessageMaker({
      encoding: config.encoding,
      maxBytes: config.maxMessageBytes,
      maxEntries: config.maxMessageEntries,
      subject: config.subject,
    })
    this.#ready = this.#prepare()
    this.started = this.#ready
    this.#ready.catch(() => {})
  }

  async #prepare(): Promise<JetStreamClient> {
    const nc = await this.#conn.ready
    this.#fitServer(nc.info?.max_payload)
    try {
      const jsm = await jetstreamManager(nc, { timeout: this.#config.ackTimeoutMs })
      await ensureStream(jsm, this.#config.stream, this.#config.subject)
    } catch (err) {
      throw failureKind(err) === 'permission' ? permissionError(err) : err
    }
    return jetstream(nc, { timeout: this.#config.ackTimeoutMs })
  }

  /** Messages no larger than the server takes: maxMessageBytes lowered to its max_payload (less header room), said once. */
  #fitServer(maxPayload: number | undefined): void {
    if (maxPayload === undefined || maxPayload <= 0) return
    const fits = Math.max(1024, maxPayload - HEADER_ROOM)
    if (this.#maker.maxBytes <= fits) return
    this.#maker.limitBytes(fits)
    this.#report({
      code: 'nats_max_payload',
      message: `maxMessageBytes (${this.#config.maxMessageBytes}) is above what the server takes (max_payload ${maxPayload}): messages are made at most ${fits} bytes`,
    })
  }

  status(): NatsSinkStatus {
    return {
      server: this.#conn.server,
      inFlight: this.#inFlight.size,
      published: this.#published,
      acknowledged: this.#acknowledged,
      duplicates: this.#duplicates,
      reconnects: this.#conn.reconnects,
    }
  }

  write(entries: readonly LogEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve()
    return this.#send(() => this.#maker.addEntries(entries))
  }

  writeEntries(batches: readonly EntryBatch[]): Promise<void> {
    if (batches.every((b) => b.length === 0)) return Promise.resolve()
    return this.#send(() => this.#maker.addBatches(batches))
  }

  closing(): void {
    this.#closing = true
    // With no server there is nothing to finish: fail what waits now, and
    // leave it unacknowledged (the host's ring keeps it for the next run).
    if (!this.#conn.connected) this.#abort?.(this.#closingError())
  }

  async flush(): Promise<void> {
    // Every write resolves only when acknowledged: nothing is pending between writes.
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#abort?.(this.#closingError())
    await this.#conn.close()
  }

  #closingError(): Error {
    return natsError(
      'LOGKIT_ERR_NATS_CONNECT',
      'closing with no NATS server connected: what was not acknowledged stays with the source',
    )
  }

  /**
   * Waits for the client (and so for the server's max_payload), fits the
   * messages to the server connected now (a reconnect may have found one
   * that takes less), then makes them (`add` gives the maker the entries)
   * and publishes them.
   */
  async #send(add: () => void): Promise<void> {
    if (this.#closed) throw natsError('LOGKIT_ERR_NATS_CLOSED', 'the NATS sink was used after close()')
    const aborted = new Promise<never>((_, reject) => {
      this.#abort = reject
    })
    aborted.catch(() => {})
    try {
      if (this.#closing && !this.#conn.connected) throw this.#closingError()
      const js = await Promise.race([this.#client(), aborted])
      this.#fitServer(this.#conn.nc?.info?.max_payload)
      add()
      const messages = this.#maker.take()
      this.#reportLosses()
      if (messages.length === 0) return
      const cut = { aborted: false }
      aborted.catch(() => {
        cut.aborted = true
      })
      await Promise.race([this.#publishAll(js, messages, aborted, cut), aborted])
    } finally {
      this.#abort = undefined
    }
  }

  /**
   * The client once connected and the stream is there, or an error after
   * ackTimeoutMs. A failed check is made again on the next write; its error
   * is retryable whatever it was (start-up is over: the operator may mend it).
   */
  async #client(): Promise<JetStreamClient> {
    const ready = this.#ready
    try {
      const js = await within(ready, this.#config.ackTimeoutMs)
      if (js !== undefined) return js
    } catch (err) {
      if (this.#ready === ready) this.#recheck()
      throw this.#blocked(err)
    }
    throw (
      this.#conn.failure ??
      natsError(
        'LOGKIT_ERR_NATS_CONNECT',
        `no NATS server of ${this.#config.servers.length} reachable within ${this.#config.ackTimeoutMs} ms; retrying`,
      )
    )
  }

  /**
   * Publishes `messages`, at most maxInFlight unanswered (counting publishes
   * of an earlier write that closing() cut short: they hold their place until
   * answered or timed out), and resolves once every one of this write is
   * answered. Once `aborted` rejects, no more are published.
   */
  async #publishAll(
    js: JetStreamClient,
    messages: readonly OutMessage[],
    aborted: Promise<never>,
    cut: { readonly aborted: boolean },
  ): Promise<void> {
    const max = this.#config.maxInFlight
    const inFlight = this.#inFlight
    const mine: Promise<void>[] = []
    let failure: unknown
    let duplicates = 0
    for (const m of messages) {
      if (failure !== undefined || cut.aborted) break
      while (inFlight.size >= max && !cut.aborted) await Promise.race([...inFlight, aborted]).catch(() => {})
      if (cut.aborted) break
      this.#published++
      const p: Promise<void> = js
        .publish(m.subject, m.data, { msgID: m.msgID, timeout: this.#config.ackTimeoutMs })
        .then(
          (ack) => {
            this.#acknowledged++
            this.#streamMissing = false
            if (ack.duplicate) duplicates++
          },
          (err: unknown) => {
            failure ??= err
          },
        )
        .finally(() => {
          inFlight.delete(p)
        })
      inFlight.add(p)
      mine.push(p)
    }
    await Promise.all(mine)
    if (duplicates > 0) {
      this.#duplicates += duplicates
      this.#report({
        code: 'nats_duplicate',
        message: `JetStream had ${duplicates} of ${messages.length} re-published messages stored already (message ids seen): not stored twice`,
        count: duplicates,
      })
    }
    if (failure !== undefined) throw this.#publishError(failure)
  }

  /** The stream is checked again (and made when missing and `create`) before the next write publishes. */
  #recheck(): void {
    const ready = this.#prepare()
    ready.catch(() => {})
    this.#ready = ready
  }

  /**
   * A failure after start-up, as the write fails with it: retryable (the
   * runtime holds the write under block), and reported as nats_sink_blocked
   * at most once per kind (error code and reason) per REPORT_INTERVAL_MS.
   */
  #blocked(err: unknown): Error {
    const e = err as LogkitError & { retryable?: boolean }
    if (e?.retryable !== false) return err as Error
    {
      const kind = `${e.code}:${String(e.details?.['reason'] ?? '')}`
      const now = Date.now()
      const last = this.#blockedReported.get(kind)
      if (last === undefined || now - last >= REPORT_INTERVAL_MS) {
        this.#blockedReported.set(kind, now)
        this.#report({
          code: 'nats_sink_blocked',
          message: `${errorText(err)}; writes are held and retried (the stream is checked again before each) until this is mended`,
          details: { error: String(e.code) },
        })
      }
    }
    // A copy: the start-up error (openNatsSink's) stays as it was.
    return natsError(e.code as NatsErrorCode, e.message, { cause: e.cause, details: { ...e.details } })
  }

  /** The error a failed publish fails its write with (retryable); a missing stream is made again before the retry. */
  #publishError(failure: unknown): Error {
    const kind = failureKind(failure)
    const message = errorText(failure)
    if (kind === 'permission') {
      this.#recheck()
      return this.#blocked(permissionError(failure))
    }
    if (kind === 'argument') {
      // The client refuses a message above the server's max_payload: a reconnect found a server that takes less.
      const before = this.#maker.maxBytes
      this.#fitServer(this.#conn.nc?.info?.max_payload)
      if (/max_payload/i.test(message) || this.#maker.maxBytes < before) {
        return natsError(
          'LOGKIT_ERR_NATS_PUBLISH',
          `the NATS client refused a message larger than the server takes (${message}): the write is retried with messages of at most ${this.#maker.maxBytes} bytes`,
          { cause: failure },
        )
      }
      return natsError(
        'LOGKIT_ERR_NATS_PUBLISH',
        `the NATS client refused a message (${message}): not retried`,
        { cause: failure, retryable: false },
      )
    }
    if (kind === 'no_responders' || kind === 'not_found') {
      // No stream stores the subject (deleted, or a memory stream lost in a
      // restart): the next write's #client() makes it again first.
      if (!this.#streamMissing)
        this.#report({
          code: 'nats_stream_missing',
          message: `no stream answered a publish (${message}): making stream ${this.#config.stream.name} again${this.#config.stream.create ? '' : ' (stream.create is false: it must be created)'}; the write is retried`,
        })
      this.#streamMissing = true
      this.#recheck()
    }
    return natsError(
      'LOGKIT_ERR_NATS_PUBLISH',
      `JetStream did not acknowledge a message (${message}); the write is retried, and the message ids make re-publishing safe`,
      { cause: failure },
    )
  }

  /** Entries the maker left out (too large) and fields it quoted, reported as they grow. */
  #reportLosses(): void {
    const tooLarge = this.#maker.tooLarge - this.#tooLargeReported
    if (tooLarge > 0) {
      this.#tooLargeReported = this.#maker.tooLarge
      this.#report({
        code: 'dropped',
        message: `${tooLarge} entries are larger than a message may be (${this.#maker.maxBytes} bytes: maxMessageBytes, lowered to the server's max_payload) alone: not sent`,
        count: tooLarge,
        details: { reason: 'too_large' },
      })
    }
    const invalid = this.#maker.invalidFields - this.#invalidReported
    if (invalid > 0) {
      this.#invalidReported = this.#maker.invalidFields
      this.#report({
        code: 'fields_invalid',
        message: `${invalid} entries had fields that are not one JSON object: sent quoted under logkit_invalid_fields`,
        count: invalid,
      })
    }
  }
}

/** The stream is there (made when missing and `create`), and stores the sink's subjects. */
export async function ensureStream(
  jsm: JetStreamManager,
  stream: StreamConfig,
  subject: string,
): Promise<void> {
  let subjects: readonly string[]
  try {
    const info = await jsm.streams.info(stream.name)
    subjects = info.config.subjects ?? []
  } catch (err) {
    if (!isNotFound(err)) throw err
    if (!stream.create) {
      throw natsError(
        'LOGKIT_ERR_NATS_STREAM',
        `stream ${stream.name} does not exist and stream.create is false: create it (nats stream add) or set create: true`,
        { retryable: false, details: { reason: 'missing' } },
      )
    }
    const made = await jsm.streams.add({
      name: stream.name,
      subjects: [...stream.subjects],
      num_replicas: stream.replicas,
      max_age: stream.maxAgeMs * NS,
      max_bytes: stream.maxBytes,
      storage: stream.storage === 'memory' ? StorageType.Memory : StorageType.File,
      duplicate_window: stream.duplicateWindowMs * NS,
    })
    subjects = made.config.subjects ?? []
  }
  const sample = subject.replace(/\{(app|source|host)\}/g, 'x')
  if (!subjects.some((pattern) => subjectMatches(pattern, sample))) {
    throw natsError(
      'LOGKIT_ERR_NATS_STREAM',
      `stream ${stream.name} stores ${subjects.join(', ') || 'no subjects'}, which do not cover the subject ${subject}: change subject or the stream's subjects`,
      { retryable: false, details: { reason: 'subjects' } },
    )
  }
}

/** A permissions violation: the credentials work, the user may not do this (not retried). */
export function permissionError(err: unknown): Error {
  return natsError(
    'LOGKIT_ERR_NATS_AUTH',
    `the NATS server refused a permission the credentials need (${errorText(err)}): allow the user to publish to $JS.API.> and the stream's subjects`,
    { cause: err, retryable: false },
  )
}
