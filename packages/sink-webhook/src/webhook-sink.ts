// createWebhookSink: the plain building block behind `use: webhook`.
//
//   write(entries) ───────┐                      ┌─ 2xx ───────────────────────▶ delivered
//   writeEntries(batches) ┴▶ level ─▶ render ─▶ payloads ─▶ send (≤ concurrency) ─┼─ retryOn: wait, try again ─┐
//     (json, ndjson: bytes)   filter   (preset)  (batch limits)                  ├─ 413: split in two, send each
//                                                                                └─ other / retries spent ──▶ dead-letter file (fsync)
//
// A write resolves once every entry of it was accepted by the endpoint or is
// durably in the dead-letter file, so the runtime acknowledges end to end: a
// collector killed mid-request never acknowledged that batch, and a source
// that keeps its data (shm) hands it to the next collector. Without a
// dead-letter file, a write whose retries are spent rejects (the runtime
// retries it by its own policy: under `block` it holds it), and one the
// endpoint refused rejects as not retryable (counted as failed).
//
// The runtime gives a sink one write at a time and queues what arrives
// meanwhile (bounded, with its overflow policy): that queue is the batch
// buffer. A write is cut into payloads by `batch` and the preset's limits;
// with concurrency 1 they go one after the other, in order. A write that
// fills no payload waits until `batch.maxWaitMs` after the previous request
// started, so that under a trickle requests carry what arrived meanwhile.
//
// Waits: the backoff of a retry (full jitter), a Retry-After (429, 503),
// Discord's retry_after and X-RateLimit-*, and the preset's own pace (Slack:
// one message a second) all go through one gate, `#notBefore`, which every
// request in flight respects. closing() (the runtime calls it as soon as the
// pipeline closes, before it waits for the sink's queue) and close() cut
// every wait short: a payload waiting for a retry gets one last attempt at
// once, a failure from then on is not retried, and what is not delivered goes to the dead-letter file (fsync'd, so its write
// is acknowledged), or, without one, fails its write as retryable: the
// runtime then leaves it unacknowledged (policy block), for the next
// collector when the source keeps its data (shm).
//
// A write that rejects is remembered by its batch (the runtime retries a
// write with the same array): its retry sends only the payloads that were
// neither delivered nor settled (dead-lettered, refused), so an endpoint
// never gets a payload twice from one write. Within a write, a refused
// payload does not stop the others; a failure that may pass (retries spent)
// stops an ordered write (concurrency 1), and the write rejects as retryable
// whenever any payload may still be delivered.

import {
  type DiagnosticReporter,
  type EntryBatch,
  ignoreDiagnostics,
  type LogEntry,
  type Sink,
} from '@logkit/core'
import { DeadLetterFile, type DeadLetterHeader } from './dead-letter.js'
import type { WebhookSinkReporter } from './diagnostics.js'
import { type Answer, Endpoint, EXCERPT_CHARS } from './endpoint.js'
import { type WebhookSinkErrorCode, webhookSinkError } from './errors.js'
import { validateWebhookOptions, type WebhookSinkConfig, type WebhookSinkOptions } from './options.js'
import { rendererFor } from './presets/index.js'
import { presetDefaults } from './presets/limits.js'
import type { Payload, Renderer } from './presets/payload.js'
import { backoffMs, rateLimitWaitMs, serverWaitMs } from './retry-policy.js'

export interface WebhookSinkStats {
  /** scheme://host[:port]: all that is shown of the URL. */
  readonly endpoint: string
  /** Entries the endpoint accepted. */
  readonly delivered: number
  /** Requests the endpoint accepted. */
  readonly requests: number
  /** Attempts that were tried again (a retryOn status, a network error, a timeout). */
  readonly retries: number
  /** Entries of requests refused with a status not in retryOn. */
  readonly rejected: number
  /** Entries written to the dead-letter file. */
  readonly deadLettered: number
  /** Entries removed with the oldest dead-letter file by its rotation. */
  readonly deadLetterDiscarded: number
  /** Entries below `level`, not sent. */
  readonly filtered: number
  /** This sink's own diagnostics that came back as entries: not sent to it (they would loop). */
  readonly ownDiagnostics: number
  /** True after a request used up its retries, until one gets through. */
  readonly failing: boolean
  /** True once a Discord webhook answered 401, 403 or 404. */
  readonly gone: boolean
  /** Requests waiting for an answer. */
  readonly inFlight: number
}

export interface WebhookSink extends Sink {
  /** Resolves once every entry was accepted by the endpoint or is fsync'd in the dead-letter file. */
  write(batch: readonly LogEntry[]): Promise<void>
  /** json and ndjson only: the same from batches of entries that are still bytes, copied into the body. */
  writeEntries?(batches: readonly EntryBatch[]): Promise<void>
  /** Resolves when every write so far has settled. */
  flush(): Promise<void>
  /** Close is coming: cuts every wait short; what fails from now on is not retried (dead-lettered, or its write fails). */
  closing(): void
  /** Cuts every wait short, waits for requests in flight, closes the connections; no timer or socket is left. */
  close(): Promise<void>
  readonly stats: WebhookSinkStats
}

export interface WebhookSinkContext {
  readonly report?: DiagnosticReporter | undefined
  /** The sink's id in its pipeline: names it in the dead-letter file, and its own diagnostics are not sent to it. */
  readonly id?: string | undefined
}

/**
 * A webhook sink. Options are validated first (LOGKIT_ERR_OPTIONS_INVALID);
 * nothing is connected until the first write.
 *
 * @example
 * ```ts
 * const sink = createWebhookSink({ url: process.env.SLACK_URL!, preset: 'slack', level: 'error', deadLetter: 'alerts.dead.ndjson' })
 * ```
 */
export function createWebhookSink(
  options: WebhookSinkOptions,
  context: WebhookSinkContext = {},
): WebhookSink {
  return openWebhookSink(validateWebhookOptions(options), context)
}

/** The sink from options already validated by the schema (the manifest path). */
export function openWebhookSink(config: WebhookSinkConfig, context: WebhookSinkContext = {}): WebhookSink {
  const sink = new WebhookSinkImpl(config, context.report ?? ignoreDiagnostics, context.id ?? 'webhook')
  // The byte path only where bytes are copied: chat presets read the entries.
  if (config.preset === 'json' || config.preset === 'ndjson') {
    return Object.assign(sink, {
      writeEntries: (batches: readonly EntryBatch[]) => sink.writeBatches(batches),
    })
  }
  return sink
}

type Outcome = 'delivered' | 'dead-lettered'

interface Failure {
  readonly reason: 'rejected' | 'retries_spent' | 'too_large' | 'gone' | 'closing'
  readonly attempts: number
  readonly status?: number | undefined
  readonly error?: string | undefined
  readonly excerpt?: string | undefined
}

/** The payloads of one write, kept while it may be retried. */
interface WriteState {
  readonly payloads: readonly Payload[]
  /** Delivered, dead-lettered or refused: not sent again. */
  readonly done: Set<Payload>
  /** The first refusal (not retryable): the write rejects with it once nothing else is left. */
  refused?: unknown
}

const isRetryable = (err: unknown) => (err as { retryable?: unknown } | null)?.retryable !== false

const ERROR_OF: Readonly<Record<Failure['reason'], WebhookSinkErrorCode>> = {
  rejected: 'LOGKIT_ERR_WEBHOOK_REJECTED',
  retries_spent: 'LOGKIT_ERR_WEBHOOK_UNDELIVERED',
  closing: 'LOGKIT_ERR_WEBHOOK_UNDELIVERED',
  too_large: 'LOGKIT_ERR_WEBHOOK_TOO_LARGE',
  gone: 'LOGKIT_ERR_WEBHOOK_GONE',
}

class WebhookSinkImpl implements WebhookSink {
  readonly #config: WebhookSinkConfig
  readonly #report: WebhookSinkReporter
  readonly #id: string
  readonly #endpoint: Endpoint
  readonly #renderer: Renderer
  readonly #deadLetter: DeadLetterFile | undefined
  readonly #retryOn: ReadonlySet<number>
  readonly #minIntervalMs: number
  /** Writes not yet settled. */
  readonly #writes = new Set<Promise<void>>()
  /** Waits in progress, and how to end them early. */
  readonly #waits = new Set<() => void>()
  /** No request starts before this (ms since the epoch): pace, rate limits, Retry-After. */
  #notBefore = 0
  /** When the last request started. */
  #lastStart = 0
  #closing: Promise<void> | undefined
  /** Set by closing() or close(): no more waits, no more retries. */
  #stopping = false
  /** Writes that rejected, by the batch they were given: a retry of the same batch resumes them. */
  readonly #unfinished = new WeakMap<object, WriteState>()
  /** The halves a payload was split into after a 413, so that a retry does not send a delivered half again. */
  readonly #halves = new WeakMap<Payload, readonly [Payload, Payload]>()
  #delivered = 0
  #requests = 0
  #retries = 0
  #rejected = 0
  #deadLettered = 0
  #discarded = 0
  #filtered = 0
  #own = 0
  #failing = false
  #gone = false
  #inFlight = 0

  constructor(config: WebhookSinkConfig, report: WebhookSinkReporter, id: string) {
    this.#config = config
    this.#report = report
    this.#id = id
    this.#endpoint = new Endpoint(config)
    this.#retryOn = new Set(config.retry.retryOn)
    this.#minIntervalMs = presetDefaults[config.preset].minIntervalMs
    this.#renderer = rendererFor(config, (count) =>
      report({
        code: 'fields_invalid',
        stage: 'sink',
        message: `${count} entries sent to ${this.#endpoint.label} had fields that are not one JSON object: each was sent with its fields as the string "logkit_invalid_fields"; fix the producer that sends them`,
        count,
      }),
    )
    const dl = config.deadLetter
    if (dl !== undefined) {
      this.#deadLetter = new DeadLetterFile({
        ...dl,
        onDiscard: (count, file) => {
          if (count !== undefined) this.#discarded += count
          const what =
            count === undefined ? 'entries (how many is unknown: it could not be read)' : `${count} entries`
          report({
            code: 'dead_letter_discarded',
            stage: 'sink',
            level: 50,
            message: `dead-letter file ${file} was past deadLetter.keep (${dl.keep}) and was removed with its ${what}: replay the dead-letter files sooner, or raise deadLetter.maxBytes or keep`,
            ...(count === undefined ? {} : { count }),
            details: { path: file, countUnknown: count === undefined },
          })
        },
      })
    }
  }

  get stats(): WebhookSinkStats {
    return {
      endpoint: this.#endpoint.label,
      delivered: this.#delivered,
      requests: this.#requests,
      retries: this.#retries,
      rejected: this.#rejected,
      deadLettered: this.#deadLettered,
      deadLetterDiscarded: this.#discarded,
      filtered: this.#filtered,
      ownDiagnostics: this.#own,
      failing: this.#failing,
      gone: this.#gone,
      inFlight: this.#inFlight,
    }
  }

  write(batch: readonly LogEntry[]): Promise<void> {
    return this.#track(batch, () => {
      const kept = this.#keep(batch)
      return kept.length === 0 ? [] : this.#renderer.entries(kept)
    })
  }

  writeBatches(batches: readonly EntryBatch[]): Promise<void> {
    const render = this.#renderer.batches as (batches: readonly EntryBatch[]) => Payload[]
    return this.#track(batches, () => {
      const kept = this.#keepRows(batches)
      return kept.length === 0 ? [] : render(kept)
    })
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.#writes])
    await this.#deadLetter?.settled()
  }

  closing(): void {
    this.#stopping = true
    for (const wake of [...this.#waits]) wake()
  }

  close(): Promise<void> {
    this.closing()
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    await Promise.allSettled([...this.#writes])
    await this.#deadLetter?.settled()
    await this.#endpoint.close()
  }

  /**
   * Renders (synchronously: batches' bytes are valid only now) and delivers
   * one write; a retry of a write that rejected (the same `batch`) resumes it.
   */
  #track(batch: object, render: () => Payload[]): Promise<void> {
    if (this.#closing !== undefined) {
      return Promise.reject(
        webhookSinkError(
          'LOGKIT_ERR_WEBHOOK_CLOSED',
          `webhook sink ${this.#id} is closed: write() after close()`,
          {
            retryable: false,
          },
        ),
      )
    }
    let state = this.#unfinished.get(batch)
    if (state === undefined) {
      let payloads: Payload[]
      try {
        payloads = render()
      } catch (err) {
        return Promise.reject(err)
      }
      if (payloads.length === 0) return Promise.resolve()
      state = { payloads, done: new Set() }
    }
    const unfinished = state
    const write = this.#deliver(unfinished).then(
      () => {
        this.#unfinished.delete(batch)
      },
      (err: unknown) => {
        this.#unfinished.set(batch, unfinished)
        throw err
      },
    )
    this.#writes.add(write)
    const forget = () => this.#writes.delete(write)
    write.then(forget, forget)
    return write
  }

  /** Entries at or above `level`, without this sink's own diagnostics. */
  #keep(batch: readonly LogEntry[]): readonly LogEntry[] {
    const min = this.#config.level
    let kept: LogEntry[] | undefined
    for (let i = 0; i < batch.length; i++) {
      const entry = batch[i] as LogEntry
      const below = min !== undefined && entry.level < min
      const own = !below && this.#isOwnDiagnostic(entry)
      if (below || own) {
        if (below) this.#filtered++
        else this.#own++
        kept ??= batch.slice(0, i)
      } else kept?.push(entry)
    }
    return kept ?? batch
  }

  /** A diagnostic this sink reported, turned into an entry by the runtime: sending it here would loop. */
  #isOwnDiagnostic(entry: LogEntry): boolean {
    if (entry.source !== 'logkit' || entry.seq !== 0) return false
    try {
      return entry.fields.value['component'] === this.#id
    } catch {
      return false
    }
  }

  /** The batches' rows at or above `level` (read from the index's level column: nothing decoded). */
  #keepRows(batches: readonly EntryBatch[]): readonly EntryBatch[] {
    const min = this.#config.level
    if (min === undefined) return batches
    const out: EntryBatch[] = []
    for (const batch of batches) {
      const levels = batch.index.level
      const rows = new Int32Array(batch.length)
      let n = 0
      for (let k = 0; k < batch.length; k++) {
        const row = batch.rows[k] as number
        if ((levels[row] as number) >= min) rows[n++] = row
      }
      this.#filtered += batch.length - n
      if (n === batch.length) out.push(batch)
      else if (n > 0) out.push(batch.withRows(rows, n))
    }
    return out
  }

  /**
   * Sends the payloads of one write not yet done, `concurrency` at a time.
   * Rejects as retryable when any may still be delivered, else with the
   * first refusal.
   */
  async #deliver(state: WriteState): Promise<void> {
    const { batch } = this.#config
    const pending = state.payloads.filter((p) => !state.done.has(p))
    const first = pending[0]
    if (
      first !== undefined &&
      state.payloads.length === 1 &&
      first.count < batch.maxEntries &&
      batch.maxWaitMs > 0
    ) {
      // Not full: wait for what arrives meanwhile to make the next request fuller.
      await this.#waitUntil(this.#lastStart + batch.maxWaitMs)
    }
    const ordered = this.#config.concurrency === 1
    let next = 0
    let retryable: unknown
    const worker = async () => {
      // In order, a failure that may pass stops the write (the rest would
      // overtake it); a refusal is final for its payload only.
      while (next < pending.length && (retryable === undefined || !ordered)) {
        const payload = pending[next++] as Payload
        try {
          await this.#send(payload, state.done)
          state.done.add(payload)
        } catch (err) {
          if (isRetryable(err)) retryable ??= err
          else {
            state.refused ??= err
            state.done.add(payload)
          }
        }
      }
    }
    const workers = Math.min(this.#config.concurrency, pending.length)
    await Promise.all(Array.from({ length: workers }, worker))
    if (retryable !== undefined) throw retryable
    if (state.refused !== undefined) throw state.refused
  }

  /** One payload: attempts until delivered, refused, or out of retries; then the dead-letter file. */
  async #send(payload: Payload, done: Set<Payload>): Promise<Outcome> {
    const split = this.#halves.get(payload)
    if (split !== undefined) return this.#sendHalves(split, done)
    if (payload.oversized) return this.#undelivered(payload, { reason: 'too_large', attempts: 0 })
    if (this.#gone) return this.#undelivered(payload, { reason: 'gone', attempts: 0 })
    // While failing, one attempt: a dead endpoint must not hold every write for a whole budget.
    const budget = this.#failing ? 0 : this.#config.retry.retries
    for (let attempt = 0; ; attempt++) {
      // Closing wakes this wait: a payload waiting for a retry gets its last attempt at once.
      await this.#waitUntil(this.#notBefore)
      const answer = await this.#request(payload)
      const now = Date.now()
      if (answer.kind === 'status' && answer.status >= 200 && answer.status < 300) {
        this.#pace(rateLimitWaitMs(answer.headers, now), now)
        return this.#accepted(payload, attempt + 1)
      }
      if (answer.kind === 'status' && answer.status === 413) {
        const halves = payload.split()
        if (halves !== undefined) {
          // Too large for this endpoint: each half on its own (the halves split again if need be).
          this.#halves.set(payload, halves)
          return this.#sendHalves(halves, done)
        }
      }
      if (answer.kind === 'status' && !this.#retryOn.has(answer.status)) {
        const excerpt = answer.body.slice(0, EXCERPT_CHARS)
        if (this.#config.preset === 'discord' && [401, 403, 404].includes(answer.status))
          this.#goneNow(answer.status)
        return this.#undelivered(payload, {
          reason: 'rejected',
          attempts: attempt + 1,
          status: answer.status,
          excerpt,
        })
      }
      const failure = {
        attempts: attempt + 1,
        ...(answer.kind === 'status'
          ? { status: answer.status, excerpt: answer.body.slice(0, EXCERPT_CHARS) }
          : { error: `${answer.code}: ${answer.message}` }),
      }
      if (attempt >= budget || this.#stopping) {
        const reason = this.#stopping ? 'closing' : 'retries_spent'
        if (!this.#failing) this.#failingNow(failure)
        return this.#undelivered(payload, { reason, ...failure })
      }
      this.#retries++
      const asked =
        answer.kind === 'status' ? serverWaitMs(answer.status, answer.headers, answer.body, now) : undefined
      if (asked !== undefined) this.#pace(asked, now)
      else await this.#wait(backoffMs(attempt, this.#config.retry.minDelayMs, this.#config.retry.maxDelayMs))
    }
  }

  /** The halves of a payload the endpoint found too large, each once. */
  async #sendHalves(halves: readonly [Payload, Payload], done: Set<Payload>): Promise<Outcome> {
    for (const half of halves) {
      if (done.has(half)) continue
      await this.#send(half, done)
      done.add(half)
    }
    return 'delivered'
  }

  async #request(payload: Payload): Promise<Answer> {
    const start = Date.now()
    this.#lastStart = start
    if (this.#minIntervalMs > 0) this.#notBefore = Math.max(this.#notBefore, start + this.#minIntervalMs)
    this.#inFlight++
    try {
      return await this.#endpoint.send(payload.body, payload.contentType)
    } finally {
      this.#inFlight--
    }
  }

  /** No request before `waitMs` from `now` (capped by retry.maxRetryAfterMs). */
  #pace(waitMs: number | undefined, now: number): void {
    if (waitMs === undefined) return
    this.#notBefore = Math.max(this.#notBefore, now + Math.min(waitMs, this.#config.retry.maxRetryAfterMs))
  }

  #accepted(payload: Payload, attempts: number): Outcome {
    this.#delivered += payload.count
    this.#requests++
    if (this.#failing) {
      this.#failing = false
      this.#report({
        code: 'delivery_recovered',
        stage: 'sink',
        level: 30,
        message: `webhook ${this.#endpoint.label} accepted a request again (attempt ${attempts}): delivering`,
        count: payload.count,
      })
    }
    return 'delivered'
  }

  /** A payload that will not be delivered: to the dead-letter file, or a rejected write without one. */
  async #undelivered(payload: Payload, failure: Failure): Promise<Outcome> {
    const label = this.#endpoint.label
    const what = describe(failure)
    if (failure.reason === 'rejected') this.#rejected += payload.count
    const dl = this.#deadLetter
    if (dl === undefined) {
      if (failure.reason === 'rejected')
        this.#reportRejected(payload.count, failure, 'not retried (no deadLetter file is set)')
      throw webhookSinkError(
        ERROR_OF[failure.reason],
        `webhook ${label}: ${payload.count} entries not delivered (${what}) and no deadLetter file is set: set deadLetter to keep them`,
        {
          retryable: failure.reason === 'retries_spent' || failure.reason === 'closing',
          details: { endpoint: label, ...failure },
        },
      )
    }
    const header: DeadLetterHeader = {
      time: new Date().toISOString(),
      sink: this.#id,
      endpoint: label,
      ...failure,
      entries: payload.count,
    }
    try {
      await dl.append(header, payload.lines())
    } catch (cause) {
      throw webhookSinkError(
        'LOGKIT_ERR_WEBHOOK_DEAD_LETTER',
        `webhook ${label}: ${payload.count} entries not delivered (${what}), and writing them to the dead-letter file ${dl.path} failed (${(cause as NodeJS.ErrnoException).code ?? String(cause)}): the write is retried; make the file writable`,
        { cause, details: { path: dl.path } },
      )
    }
    this.#deadLettered += payload.count
    if (failure.reason === 'rejected') this.#reportRejected(payload.count, failure, `written to ${dl.path}`)
    else {
      this.#report({
        code: 'dead_lettered',
        stage: 'sink',
        level: 40,
        message: `webhook ${label}: ${payload.count} entries not delivered (${what}): written to ${dl.path}; send them again with logkit replay`,
        count: payload.count,
        details: { reason: failure.reason, path: dl.path, attempts: failure.attempts },
      })
    }
    return 'dead-lettered'
  }

  #reportRejected(count: number, failure: Failure, then: string): void {
    this.#report({
      code: 'rejected',
      stage: 'sink',
      level: 50,
      message: `webhook ${this.#endpoint.label} refused ${count} entries with status ${failure.status} (${JSON.stringify(failure.excerpt ?? '')}): ${then}; fix the payload or the endpoint, then replay`,
      count,
      details: { status: failure.status, excerpt: failure.excerpt },
    })
  }

  #failingNow(failure: Omit<Failure, 'reason'>): void {
    this.#failing = true
    this.#report({
      code: 'delivery_failing',
      stage: 'sink',
      level: 50,
      message: `webhook ${this.#endpoint.label}: a request failed ${failure.attempts} times (${describe({ reason: 'retries_spent', ...failure })}): each next request gets one attempt until one gets through`,
      details: { attempts: failure.attempts, status: failure.status },
    })
  }

  #goneNow(status: number): void {
    if (this.#gone) return
    this.#gone = true
    this.#report({
      code: 'webhook_gone',
      stage: 'sink',
      level: 50,
      message: `Discord webhook ${this.#endpoint.label} answered ${status} (deleted or revoked): the sink stops sending to it; fix the URL and restart`,
      details: { status },
    })
  }

  /** Waits until `at` (ms since the epoch), or until close(). */
  #waitUntil(at: number): Promise<void> {
    return this.#wait(at - Date.now())
  }

  #wait(ms: number): Promise<void> {
    if (ms <= 0 || this.#stopping) return Promise.resolve()
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        this.#waits.delete(wake)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      this.#waits.add(wake)
    })
  }
}

function describe(f: Failure): string {
  const answer = f.status !== undefined ? `status ${f.status}` : (f.error ?? 'no answer')
  switch (f.reason) {
    case 'rejected':
      return `refused with ${answer}`
    case 'too_large':
      return 'one entry is larger than batch.maxBytes'
    case 'gone':
      return 'the Discord webhook is gone'
    case 'closing':
      return `${answer} while the sink was closing`
    default:
      return `${f.attempts} attempts, last: ${answer}`
  }
}
