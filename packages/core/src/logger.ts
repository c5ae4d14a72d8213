// The producer API: pino's call shapes, entries encoded once into a frame and
// handed to a transport. A call below the level is a no-op function swapped in
// when the level changes, so it costs one call and nothing else.

import { hostname as osHostname } from 'node:os'
import { format } from 'node:util'
import { EntryFrameWriter } from './entry-writer.js'
import { LogkitError } from './errors.js'
import { CAPABILITY_DROP_REASONS, type Drops, PROTOCOL_VERSION } from './frame.js'
import { FrameEncoder } from './framing.js'
import { type LevelName, levelName, levelNames, levels, parseLevel } from './levels.js'
import { safeStringify } from './safe-json.js'
import { serializeError } from './serialize-error.js'
import { nowMs, nowNs } from './time.js'
import { isTransportFactory, type Transport, type TransportFactory } from './transport.js'

export interface LogFn {
  (msg: string, ...args: unknown[]): void
  (obj: object, msg?: string, ...args: unknown[]): void
}

export interface LoggerOptions {
  /**
   * The application; every producer of one app logs into that app's
   * collector. Default: the environment's LOGKIT_APP, so the workers of a
   * pool need not name it in code.
   */
  readonly app?: string
  /** The module that logs (pino's `name`); defaults to `app`. */
  readonly source?: string
  /** Minimum level, by name or number (default 'info'). */
  readonly level?: LevelName | number
  /**
   * Where the frames go: a transport, or one for the logger to open with its
   * app and source (`shm()`, `fifo()` without them).
   */
  readonly transport: Transport | TransportFactory
  /** Fields added to every entry of this logger and its children. */
  readonly bindings?: Readonly<Record<string, unknown>>
  readonly hostname?: string
  /** Largest frame the logger produces; larger entries are dropped and counted. */
  readonly maxFrameSize?: number
}

export interface LoggerStats {
  /** The last sequence number assigned. */
  readonly seq: number
  /** Entries the transport accepted. */
  readonly written: number
  /** Entries the transport dropped, or that were too large to encode. */
  readonly dropped: number
}

export interface Logger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  fatal: LogFn
  /** The level's name; assign a name or number to change it. */
  level: LevelName
  readonly levelValue: number
  readonly source: string
  isLevelEnabled(level: LevelName | number): boolean
  /** A logger that adds `bindings` to every entry, sharing this one's transport and sequence. */
  child(
    bindings: Readonly<Record<string, unknown>>,
    options?: { source?: string; level?: LevelName | number },
  ): Logger
  /** Resolves when everything logged so far has left through the transport. */
  flush(): Promise<void>
  /** Says goodbye to the collector, flushes and closes the transport. Later calls are dropped and counted. */
  close(): Promise<void>
  readonly stats: LoggerStats
}

/** What a logger and all its children share: one producer stream. */
class Producer {
  readonly encoder: FrameEncoder
  readonly entries: EntryFrameWriter
  seq = 0
  written = 0
  /** Every drop, by reason: what the goodbye tells. */
  readonly drops = new DropCount()
  /** Drops not yet announced to the collector: what the next batch tells. */
  readonly unannounced = new DropCount()
  closed = false
  helloSent = false

  constructor(
    readonly transport: Transport,
    readonly app: string,
    readonly source: string,
    readonly hostname: string,
    maxFrameSize: number | undefined,
  ) {
    const limits = maxFrameSize === undefined ? {} : { maxFrameSize }
    this.encoder = new FrameEncoder(limits)
    this.entries = new EntryFrameWriter(app, process.pid, hostname, limits)
  }

  hello(): void {
    this.helloSent = true
    this.transport.write(
      this.encoder.hello({
        app: this.app,
        source: this.source,
        pid: process.pid,
        hostname: this.hostname,
        protocol: PROTOCOL_VERSION,
        transport: this.transport.name,
        capabilities: [CAPABILITY_DROP_REASONS],
        startTime: nowNs(),
      }),
    )
  }

  /**
   * One entry at `time` (ms since the epoch); its fields are `bindings` and
   * then the members of `obj`, or else of the JSON text `json` (text, or its
   * UTF-8 bytes). False when it was dropped (counted, and announced in the
   * next frame).
   */
  write(
    time: number,
    level: number,
    source: string,
    msg: string,
    bindings: Buffer,
    obj: object | undefined,
    json: string | Buffer,
    from = 1,
    to = json.length - 1,
  ): boolean {
    if (this.closed) {
      // Nothing follows the goodbye: counted in the logger's stats only.
      this.drops.dropped++
      return false
    }
    if (!this.helloSent) this.hello()
    const seq = ++this.seq
    let start: number
    try {
      start = this.entries.entry(
        time,
        level,
        msg,
        source,
        seq,
        bindings,
        obj,
        json,
        this.unannounced,
        from,
        to,
      )
    } catch (err) {
      // Too large to frame, or fields that cannot be serialized: announced
      // with its reason in the next frame, and said here once per reason.
      const tooLarge = isFrameTooLarge(err)
      this.drops.add(tooLarge)
      this.unannounced.add(tooLarge)
      warnUnframed(err, tooLarge)
      return false
    }
    const { buf, pos } = this.entries
    const transport = this.transport
    if (
      transport.writeRange !== undefined
        ? transport.writeRange(buf, start, pos)
        : transport.write(buf.subarray(start, pos))
    ) {
      this.written++
      if (this.unannounced.dropped > 0) this.unannounced.clear()
      return true
    }
    // The transport refused it (a full ring or pipe).
    this.drops.dropped++
    this.unannounced.dropped++
    return false
  }

  async close(): Promise<void> {
    if (this.closed) return
    if (!this.helloSent) this.hello()
    this.closed = true
    this.transport.write(this.encoder.goodbye({ lastSeq: this.seq, ...this.drops }))
    await this.transport.close()
  }
}

/** A producer's running count of drops, by reason (see DropReasons). */
class DropCount implements Drops {
  dropped = 0
  droppedTooLarge = 0
  droppedUnserializable = 0

  /** One entry that could not be framed: too large, or else unserializable. */
  add(tooLarge: boolean): void {
    this.dropped++
    if (tooLarge) this.droppedTooLarge++
    else this.droppedUnserializable++
  }

  clear(): void {
    this.dropped = 0
    this.droppedTooLarge = 0
    this.droppedUnserializable = 0
  }
}

function noop(): void {}

const NO_ARGS: unknown[] = []

/** `"a":1,"b":2` for bindings, once per logger; '' when there are none. */
function bindingsMembers(bindings: Readonly<Record<string, unknown>> | undefined): string {
  if (bindings === undefined) return ''
  const json = safeStringify(withSerializedErrors(bindings))
  return json.length > 2 ? json.slice(1, -1) : ''
}

const NO_BINDINGS = Buffer.alloc(0)

function withSerializedErrors(obj: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const err = obj['err']
  return err instanceof Error ? { ...obj, err: serializeError(err) } : obj
}

class LoggerImpl implements Logger {
  trace: LogFn = noop
  debug: LogFn = noop
  info: LogFn = noop
  warn: LogFn = noop
  error: LogFn = noop
  fatal: LogFn = noop
  #level = 30
  readonly #producer: Producer
  /** The members of this logger's bindings, as text (for children) and as the bytes each entry copies. */
  readonly #members: string
  readonly #bindings: Buffer
  readonly source: string

  constructor(producer: Producer, source: string, members: string, level: LevelName | number) {
    this.#producer = producer
    this.source = source
    this.#members = members
    this.#bindings = members === '' ? NO_BINDINGS : Buffer.from(members)
    this.level = level as LevelName
  }

  get level(): LevelName {
    return levelName(this.#level)
  }

  set level(level: LevelName | number) {
    this.#level = parseLevel(level)
    for (const name of levelNames) {
      const value = levels[name]
      this[name] = value >= this.#level ? this.#method(value) : noop
    }
  }

  get levelValue(): number {
    return this.#level
  }

  get stats(): LoggerStats {
    const p = this.#producer
    return { seq: p.seq, written: p.written, dropped: p.drops.dropped }
  }

  isLevelEnabled(level: LevelName | number): boolean {
    return parseLevel(level) >= this.#level
  }

  child(
    bindings: Readonly<Record<string, unknown>>,
    options: { source?: string; level?: LevelName | number } = {},
  ): Logger {
    const own = bindingsMembers(bindings)
    const merged = this.#members === '' ? own : own === '' ? this.#members : `${this.#members},${own}`
    return new LoggerImpl(this.#producer, options.source ?? this.source, merged, options.level ?? this.#level)
  }

  flush(): Promise<void> {
    return this.#producer.transport.flush()
  }

  close(): Promise<void> {
    return this.#producer.close()
  }

  #method(level: number): LogFn {
    const self = this
    // A plain function, not a rest parameter: no array is made per call unless
    // there are printf-style arguments.
    return function log(a: unknown, b?: unknown) {
      // biome-ignore lint/complexity/noArguments: avoids allocating on the common call shapes
      self.#log(level, a, b, arguments.length > 2 ? Array.prototype.slice.call(arguments, 2) : NO_ARGS)
    } as LogFn
  }

  #log(level: number, a: unknown, b: unknown, rest: unknown[]): void {
    let msg: string
    let obj: object | undefined
    let json = ''
    if (typeof a === 'string') {
      msg = b === undefined ? a : format(a, b, ...rest)
    } else if (a instanceof Error) {
      msg = typeof b === 'string' ? (rest.length > 0 ? format(b, ...rest) : b) : a.message
      json = safeStringify({ err: serializeError(a) })
    } else if (a !== null && typeof a === 'object') {
      msg = typeof b === 'string' ? (rest.length > 0 ? format(b, ...rest) : b) : ''
      obj = a
    } else {
      msg = a === undefined ? '' : String(a)
    }
    this.#producer.write(nowMs(), level, this.source, msg, this.#bindings, obj, json)
  }
}

/** Reasons already warned about in this process (one warning each, however many entries). */
const warned = new Set<string>()

function isFrameTooLarge(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'LOGKIT_ERR_FRAME_TOO_LARGE'
}

/** A process warning, once per reason, for an entry the producer could not frame. */
function warnUnframed(err: unknown, tooLarge: boolean): void {
  const code = tooLarge ? 'LOGKIT_W_ENTRY_TOO_LARGE' : 'LOGKIT_W_ENTRY_UNSERIALIZABLE'
  if (warned.has(code)) return
  warned.add(code)
  const why = err instanceof Error ? err.message : String(err)
  process.emitWarning(
    tooLarge
      ? `logkit: an entry was dropped: ${why} (the collector reports such drops as entry_too_large; said once)`
      : `logkit: an entry was dropped: its fields could not be serialized (${why}); the collector reports such drops as entry_unserializable; said once`,
    { type: 'LogkitWarning', code },
  )
}

/**
 * The producer stream of a logger or an entry stream: its app (from the
 * environment when not given), its source (the app's name unless given), and
 * the transport, opened with that identity when it is still to be opened.
 */
function producerOf(options: EntryStreamOptions): Producer {
  const app = options.app ?? appFromEnv()
  const source = options.source ?? app
  const transport = isTransportFactory(options.transport)
    ? options.transport.open({ app, source })
    : options.transport
  return new Producer(transport, app, source, options.hostname ?? osHostname(), options.maxFrameSize)
}

/** LOGKIT_APP; throws LOGKIT_ERR_APP_MISSING when it is not set. */
function appFromEnv(): string {
  const app = process.env.LOGKIT_APP
  if (app === undefined || app === '') {
    throw new LogkitError(
      'LOGKIT_ERR_APP_MISSING',
      'a logger needs an app: pass { app } to createLogger, or set LOGKIT_APP in the environment',
    )
  }
  return app
}

/**
 * A logger for one producer stream. Every call encodes one entry into one frame
 * and hands it to the transport before returning.
 *
 * @example
 * const log = createLogger({ app: 'shop', source: 'checkout', transport })
 * log.info({ orderId: 42 }, 'order placed')
 */
export function createLogger(options: LoggerOptions): Logger {
  const producer = producerOf(options)
  const source = producer.source
  const root = new LoggerImpl(producer, source, bindingsMembers(options.bindings), options.level ?? 'info')
  // The collector may ask for another level at run time: the root logger
  // follows (children made afterwards inherit it; existing ones keep theirs).
  producer.transport.onLevel?.((level) => {
    ;(root as { level: LevelName | number }).level = level
  })
  return root
}

export interface EntryStreamOptions {
  /** The application: its collector is the one the transport reaches (default: LOGKIT_APP). */
  readonly app?: string
  /** The source of entries written without one (default `app`). */
  readonly source?: string
  /** A transport, or one to open with the stream's app and source. */
  readonly transport: Transport | TransportFactory
  readonly hostname?: string
  /** Largest frame; larger entries are dropped and counted. */
  readonly maxFrameSize?: number
}

/** A producer stream for entries made elsewhere: the lines of another logger (see createEntryStream). */
export interface EntryStream {
  /**
   * One entry: its time (ms since the epoch), level, message, source ('' for
   * the stream's) and fields as JSON object text ('' for none), used as
   * given; or, with `from` and `to`, fields whose members (`"a":1,"b":2`)
   * are `text[from, to)` of a longer text (a logged line), not copied out.
   * `text` may be the line's UTF-8 bytes, `from` and `to` then byte offsets.
   * False when it was dropped (counted in stats, and announced to the
   * collector with the next entry that gets through).
   */
  write(
    time: number,
    level: number,
    msg: string,
    source: string,
    text: string | Buffer,
    from?: number,
    to?: number,
  ): boolean
  /** Resolves when everything written so far has left through the transport. */
  flush(): Promise<void>
  /** Says goodbye to the collector, flushes and closes the transport. */
  close(): Promise<void>
  readonly stats: LoggerStats
}

/**
 * A producer stream without a logger's call shapes, for entries another
 * logger already made (pino's lines): the same frames, sequence numbers, drop
 * accounting and hello/goodbye as createLogger's.
 */
export function createEntryStream(options: EntryStreamOptions): EntryStream {
  const producer = producerOf(options)
  const source = producer.source
  return {
    write: (time, level, msg, entrySource, text, from = 1, to = text.length - 1) =>
      producer.write(time, level, entrySource || source, msg, NO_BINDINGS, undefined, text, from, to),
    flush: () => producer.transport.flush(),
    close: () => producer.close(),
    get stats() {
      return { seq: producer.seq, written: producer.written, dropped: producer.drops.dropped }
    },
  }
}
