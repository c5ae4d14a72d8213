// `@logkit/pino`: pino's lines into a logkit collector, two ways.
//
// - `logkitDestination(options)`: a pino destination (`pino(opts, dest)`)
//   that writes each line into this process's shared-memory ring from the
//   calling thread. A line whose call returned is in shared memory: it
//   survives the process's SIGKILL the next instant.
// - The default export, a `pino.transport` target (`target: '@logkit/pino'`)
//   that forwards the lines pino's worker thread receives, through shm or a
//   named pipe.
//
// Both cut each line once (line.ts) and hand the parts to a core entry
// stream: the same frames, sequence numbers and drop accounting as logkit's
// own logger.

import { EventEmitter } from 'node:events'
import { workerData } from 'node:worker_threads'
import {
  createEntryStream,
  type EntryStream,
  type LoggerStats,
  type RuntimeEnv,
  type TransportFactory,
} from '@logkit/core/producer'
import { type ShmOptions, shm } from '@logkit/transport-shm/producer'
import build from 'pino-abstract-transport'
import { LineCutter, type LineOptions } from './line.js'

export { type CutLine, LineCutter, type LineOptions } from './line.js'

export interface DestinationOptions
  extends LineOptions,
    Pick<ShmOptions, 'capacity' | 'policy' | 'blockMs' | 'env'> {
  /** The app whose collector receives the lines (`logkit compose` with `app:` the same); default: LOGKIT_APP. */
  readonly app?: string
  /** The source of lines without pino's `name` (default 'main'). */
  readonly source?: string
}

/** pino's destination contract, with logkit's counts. */
export interface LogkitDestination extends EventEmitter {
  /** True until end(). */
  readonly writable: boolean
  /** One or more pino lines; always true (a full ring drops and counts, see stats). */
  write(chunk: string | Uint8Array): boolean
  /** Calls back once every line written is in shared memory: at once. */
  flush(cb?: (err?: Error) => void): void
  /** Nothing to do: every line is in shared memory when write() returns. */
  flushSync(): void
  /** Says goodbye to the collector and releases the ring; emits 'finish' and 'close'. */
  end(): void
  /** Lines that were not a JSON object (kept whole as the message). */
  readonly notJson: number
  readonly stats: LoggerStats
}

/**
 * A pino destination writing into this process's shared-memory ring.
 *
 * @example
 * import pino from 'pino'
 * import { logkitDestination } from '@logkit/pino'
 * const log = pino(logkitDestination({ app: 'shop', source: 'checkout' }))
 */
export function logkitDestination(options: DestinationOptions): LogkitDestination {
  const source = options.source ?? 'main'
  const transport = shm({
    ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
    ...(options.policy === undefined ? {} : { policy: options.policy }),
    ...(options.blockMs === undefined ? {} : { blockMs: options.blockMs }),
    ...(options.env === undefined ? {} : { env: options.env }),
  })
  return new Destination(
    createEntryStream({ ...(options.app === undefined ? {} : { app: options.app }), source, transport }),
    new LineCutter(options),
  )
}

class Destination extends EventEmitter implements LogkitDestination {
  /** What pino looks for to take a lone argument as its destination, as it does a stream. */
  writable = true
  readonly #stream: EntryStream
  readonly #lines: LineCutter
  #ended = false

  /** Set by pino before each write (its metadata, asked for below): the line's level, message and time text. */
  lastLevel: number | undefined
  lastMsg: unknown
  lastTime = ''

  constructor(stream: EntryStream, lines: LineCutter) {
    super()
    this.#stream = stream
    this.#lines = lines
    // pino then tells the level, message and time of each line it writes, so
    // the line need not be read through to find them.
    Object.defineProperty(this, PINO_METADATA, { value: true })
  }

  get notJson(): number {
    return this.#lines.notJson
  }

  get stats(): LoggerStats {
    return this.#stream.stats
  }

  write(chunk: string | Uint8Array): boolean {
    const level = this.lastLevel
    if (level !== undefined && typeof chunk === 'string') {
      // A line pino just wrote: its metadata belongs to it (and to it alone).
      this.lastLevel = undefined
      const cut = this.#lines.cutPino(chunk, level, this.lastMsg, this.lastTime)
      this.#stream.write(cut.time, cut.level, cut.msg, cut.name, cut.fields, cut.from, cut.to)
      return true
    }
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
    // pino writes one line a call; anything else is split here.
    const last = text.length - 1
    const newline = text.indexOf('\n')
    if (newline < 0 || newline === last) forward(this.#stream, this.#lines, text)
    else for (const line of text.split('\n')) if (line.trim() !== '') forward(this.#stream, this.#lines, line)
    return true
  }

  flush(cb?: (err?: Error) => void): void {
    this.#stream.flush().then(
      () => cb?.(),
      (err: Error) => cb?.(err),
    )
  }

  flushSync(): void {}

  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.writable = false
    this.#stream.close().then(
      () => {
        this.emit('finish')
        this.emit('close')
      },
      (err: Error) => this.emit('error', err),
    )
  }
}

/** One line into the stream: its own level, time, message and source, the rest as fields. */
function forward(stream: EntryStream, lines: LineCutter, line: string): boolean {
  const cut = lines.cut(line)
  return stream.write(cut.time, cut.level, cut.msg, cut.name, cut.fields, cut.from, cut.to)
}

export interface TargetOptions extends LineOptions {
  /** Default: LOGKIT_APP (pino's worker thread shares the process's environment). */
  readonly app?: string
  /** The source of lines without pino's `name` (default 'main'). */
  readonly source?: string
  /** How the lines reach the collector: `shm` (default) or `fifo` (a named pipe). */
  readonly via?: 'shm' | 'fifo'
  /** shm: data bytes of the ring; fifo: bytes held while no collector reads (default 4 MiB each). */
  readonly capacity?: number
  readonly env?: RuntimeEnv
}

const PINO_METADATA = Symbol.for('pino.metadata')

/** pino's lines in its worker, with the configuration pino 10 sends (when asked: see pinoSendsConfig). */
export type PinoLines = AsyncIterable<string> & {
  messageKey?: string
  levels?: { values?: Record<string, number> }
}

/** Whether this worker's pino sends its configuration (messageKey, custom levels) to targets that ask: pino 10 does. */
export function pinoSendsConfig(): boolean {
  const config = (workerData as { workerData?: { pinoWillSendConfig?: boolean } } | null)?.workerData
  return config?.pinoWillSendConfig === true
}

/** Lines are handed over as text: nothing parses them before the cutter does. */
export const UNPARSED = {}

/**
 * The `pino.transport` target: `pino.transport({ target: '@logkit/pino',
 * options: { app, source, via } })`. Runs in pino's worker thread.
 */
export default async function logkitTarget(options: TargetOptions) {
  const source = options.source ?? 'main'
  const transport = await transportFor(options)
  const stream = createEntryStream({
    ...(options.app === undefined ? {} : { app: options.app }),
    source,
    transport,
  })
  return build(
    async (lines: PinoLines) => {
      const cutter = new LineCutter({
        ...options,
        messageKey: options.messageKey ?? lines.messageKey ?? 'msg',
        levels: { ...lines.levels?.values, ...options.levels },
      })
      for await (const line of lines) forward(stream, cutter, line)
    },
    {
      parse: 'lines',
      parseLine: () => UNPARSED,
      expectPinoConfig: pinoSendsConfig(),
      close: async () => {
        await stream.close()
      },
    },
  )
}

async function transportFor(options: TargetOptions): Promise<TransportFactory> {
  const env = options.env === undefined ? {} : { env: options.env }
  if (options.via === 'fifo') {
    const { fifo } = await import('@logkit/transport-fifo/producer').catch(() => {
      throw new Error("via: 'fifo' needs @logkit/transport-fifo: npm install @logkit/transport-fifo")
    })
    return fifo({
      ...env,
      ...(options.capacity === undefined ? {} : { bufferBytes: options.capacity }),
    })
  }
  return shm({
    ...env,
    ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
  })
}
