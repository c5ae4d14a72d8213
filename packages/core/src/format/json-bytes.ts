// The pino-compatible JSON line of format/json.ts, written as UTF-8 straight
// into a buffer: the bytes of formatJson(entry) + '\n' (tested), without
// making a string per line. A sink that writes many lines (the file sink)
// renders a batch into one of these and hands the bytes to its writer; the
// strings a line would otherwise be built of (a dozen concatenations, then a
// flatten, then an encode) are most of what such a sink allocates.
//
// Like formatJson, it never lets an entry break the line: fields that are not
// one well-formed JSON object are written as the string member
// `logkit_invalid_fields` and counted in `invalidFields`.
//
// What take() hands out is never written again: later lines go after it in
// the same buffer, and a new buffer is made only when that one runs short.

import { putBytes, putInteger, putUtf8 } from '../codec.js'
import type { LogEntry } from '../entry.js'
import { nsToMs } from '../time.js'
import { INVALID_FIELDS_KEY, numberJson } from './json.js'

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1')

/**
 * The bytes a line is built of around its values, in pino's key order: one
 * set for every renderer of these lines (also wire/json-render.ts, which
 * renders them from frames).
 */
export const LINE_KEYS = {
  level: ascii('{"level":'),
  time: ascii(',"time":'),
  pid: ascii(',"pid":'),
  hostname: ascii(',"hostname":'),
  app: ascii(',"app":'),
  name: ascii(',"name":'),
  seq: ascii(',"seq":'),
  traceId: ascii(',"trace_id":'),
  spanId: ascii(',"span_id":'),
  msg: ascii(',"msg":'),
  invalidFields: ascii(`,"${INVALID_FIELDS_KEY}":`),
} as const

const { level: LEVEL, time: TIME, pid: PID, hostname: HOSTNAME, app: APP, name: NAME } = LINE_KEYS
const { seq: SEQ, traceId: TRACE_ID, spanId: SPAN_ID, msg: MSG, invalidFields: INVALID_FIELDS } = LINE_KEYS

/** The UTF-8 bytes of a string's JSON text, kept for its last value (they tend to repeat). */
class QuotedBytes {
  #value: string | undefined
  #bytes = Buffer.alloc(0)
  of(value: string): Buffer {
    if (value !== this.#value) {
      this.#value = value
      this.#bytes = Buffer.from(JSON.stringify(value))
    }
    return this.#bytes
  }
}

export class JsonLineWriter {
  /** The bytes written since the last take() are buf[base, pos). */
  buf: Buffer
  base = 0
  pos = 0
  /**
   * Entries written since this writer was made whose fields were not one
   * well-formed JSON object (written as the string `logkit_invalid_fields`
   * instead): a sink reports the increase as a diagnostic.
   */
  invalidFields = 0
  readonly #size: number
  readonly #hostnames = new QuotedBytes()
  readonly #apps = new QuotedBytes()
  readonly #sources = new QuotedBytes()
  readonly #messages = new QuotedBytes()

  constructor(size = 64 * 1024) {
    this.#size = size
    this.buf = Buffer.allocUnsafe(size)
  }

  /** Bytes written since the last take(). */
  get pending(): number {
    return this.pos - this.base
  }

  /** Forgets what was written since the last take(). */
  discard(): void {
    this.pos = this.base
  }

  /**
   * Writes the next lines from the start of the buffer again, when nothing
   * is pending. Only for a caller that knows no writer still holds bytes it
   * took: a file whose writes are done reuses one buffer, warm in the cache,
   * instead of moving on to fresh memory.
   */
  rewind(): void {
    if (this.pos === this.base) this.base = this.pos = 0
  }

  /** Writes the entry's JSON line and its newline. */
  json(entry: LogEntry): void {
    const fields = entry.fields.json
    const msg = this.#messages.of(entry.msg)
    // Room for the line at its longest: keys and four numbers of up to 25
    // characters (others get room of their own); 3 bytes per UTF-16 unit of
    // JSON text, 6 per unit of a string still to be quoted (an escape such
    // as \u0001).
    this.#ensure(
      256 +
        msg.length +
        3 * fields.length +
        6 * (entry.hostname.length + entry.app.length + entry.source.length),
    )
    this.#bytes(LEVEL)
    this.#number(entry.level)
    this.#bytes(TIME)
    this.#number(nsToMs(entry.time))
    this.#bytes(PID)
    this.#number(entry.pid)
    if (entry.hostname !== '') {
      this.#bytes(HOSTNAME)
      this.#bytes(this.#hostnames.of(entry.hostname))
    }
    if (entry.app !== '') {
      this.#bytes(APP)
      this.#bytes(this.#apps.of(entry.app))
    }
    if (entry.source !== '') {
      this.#bytes(NAME)
      this.#bytes(this.#sources.of(entry.source))
    }
    if (entry.seq !== 0) {
      this.#bytes(SEQ)
      this.#number(entry.seq)
    }
    if (entry.traceId) this.#member(TRACE_ID, JSON.stringify(entry.traceId))
    if (entry.spanId) this.#member(SPAN_ID, JSON.stringify(entry.spanId))
    // The members of the fields' raw JSON text, spliced in only when a byte
    // scan found it one JSON object that fits on the line.
    if (entry.fields.hasMembers) {
      this.buf[this.pos++] = 0x2c
      this.#text(fields, 1, fields.length - 1)
    } else if (!entry.fields.wellFormed) {
      this.invalidFields++
      this.#member(INVALID_FIELDS, JSON.stringify(fields))
    }
    this.#bytes(MSG)
    this.#bytes(msg)
    this.buf[this.pos++] = 0x7d
    this.buf[this.pos++] = 0x0a
  }

  /** Writes `text` (a line already rendered) and a newline. */
  line(text: string): void {
    this.#ensure(3 * text.length + 1)
    this.#text(text, 0)
    this.buf[this.pos++] = 0x0a
  }

  /**
   * The bytes from base to `upTo` (at most pos), to hand to a writer, which
   * may hold them as long as it likes; what follows upTo stays pending.
   */
  take(upTo: number = this.pos): Buffer {
    const out = this.buf.subarray(this.base, upTo)
    this.base = upTo
    return out
  }

  /** Room for n more bytes: the pending bytes move to a new buffer when this one runs short. */
  #ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const pending = this.pos - this.base
    // Sized for what is pending and a batch like the last, at the least.
    const next = Buffer.allocUnsafe(Math.max(this.#size, 2 * (pending + n)))
    this.buf.copy(next, 0, this.base, this.pos)
    this.buf = next
    this.base = 0
    this.pos = pending
  }

  /** `,"key":` and a value's JSON text, with room of its own. */
  #member(key: Buffer, json: string): void {
    this.#ensure(key.length + 3 * json.length)
    this.#bytes(key)
    this.#text(json, 0)
  }

  #bytes(bytes: Buffer): void {
    this.pos = putBytes(this.buf, this.pos, bytes)
  }

  /** text[from, to) as UTF-8 (room already ensured). */
  #text(text: string, from: number, to: number = text.length): void {
    this.pos = putUtf8(this.buf, this.pos, text, from, to)
  }

  /** A number as String(n) writes it; what JSON cannot hold as numberJson does. */
  #number(v: number): void {
    if (Number.isSafeInteger(v)) this.pos = putInteger(this.buf, this.pos, v)
    else {
      // Up to 25 characters for a number; more only for what is not one (a
      // level a JS caller set to a string): room of its own.
      const text = numberJson(v)
      this.#ensure(3 * text.length)
      this.#text(text, 0)
    }
  }
}
