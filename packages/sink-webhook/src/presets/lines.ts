// Presets json and ndjson: pino's JSON lines, as an array or as NDJSON,
// optionally inside a body template. The lines are the file sink's bytes:
// written straight to UTF-8 by core's JsonLineWriter for entries, and copied
// from the frames by core's JsonRenderer on the byte path (no entry decoded,
// nothing stringified twice). A write's lines are cut into payloads at
// `batch.maxEntries` and `batch.maxBytes` (body size, template included); a
// line that alone is over maxBytes becomes an `oversized` payload of its own.
//
//   ndjson   prefix line\nline\n … suffix
//   json     prefix [line,line, …] suffix      (each line's newline becomes the comma)

import { type EntryBatch, JsonLineWriter, type LogEntry } from '@logkit/core'
import { JsonRenderer } from '@logkit/core/wire'
import { ENTRIES_PLACEHOLDER } from '../options.js'
import type { Payload, Renderer } from './payload.js'

const NEWLINE = 0x0a
const COMMA = 0x2c

export interface LinesOptions {
  readonly preset: 'json' | 'ndjson'
  readonly template?: string | undefined
  readonly maxEntries: number
  readonly maxBytes: number
  /** Called with how many entries had fields that are not one JSON object (written as `logkit_invalid_fields`). */
  readonly onInvalidFields?: ((count: number) => void) | undefined
}

/** How lines become a body. */
class Shape {
  readonly contentType: string
  readonly array: boolean
  readonly prefix: Buffer
  readonly suffix: Buffer
  /** Bytes a body has beside its lines. */
  readonly overhead: number

  constructor(preset: 'json' | 'ndjson', template: string | undefined) {
    this.array = preset === 'json'
    this.contentType = this.array ? 'application/json' : 'application/x-ndjson'
    const [before = '', after = ''] = template === undefined ? [] : template.split(ENTRIES_PLACEHOLDER)
    this.prefix = Buffer.from(before)
    this.suffix = Buffer.from(after)
    // json: '[' and ']' in, the last newline out.
    this.overhead = this.prefix.length + this.suffix.length + (this.array ? 1 : 0)
  }

  body(lines: Buffer): Buffer {
    const { prefix, suffix } = this
    if (!this.array)
      return prefix.length + suffix.length === 0 ? lines : Buffer.concat([prefix, lines, suffix])
    const inner = Math.max(0, lines.length - 1)
    const body = Buffer.allocUnsafe(prefix.length + inner + 2 + suffix.length)
    let p = prefix.copy(body, 0)
    body[p++] = 0x5b // [
    lines.copy(body, p, 0, inner)
    // A JSON line holds no raw newline (they are escaped): each one ends a line.
    for (let i = p; i < p + inner; i++) if (body[i] === NEWLINE) body[i] = COMMA
    p += inner
    body[p++] = 0x5d // ]
    suffix.copy(body, p)
    return body
  }
}

class LinesPayload implements Payload {
  readonly #shape: Shape
  readonly #lines: Buffer
  /** End of each line in #lines. */
  readonly #ends: readonly number[]
  #body: Buffer | undefined
  readonly oversized: boolean

  constructor(shape: Shape, lines: Buffer, ends: readonly number[], oversized: boolean) {
    this.#shape = shape
    this.#lines = lines
    this.#ends = ends
    this.oversized = oversized
  }

  get count(): number {
    return this.#ends.length
  }

  get contentType(): string {
    return this.#shape.contentType
  }

  get body(): Buffer {
    this.#body ??= this.#shape.body(this.#lines)
    return this.#body
  }

  lines(): Buffer {
    return this.#lines
  }

  split(): readonly [Payload, Payload] | undefined {
    const n = this.#ends.length
    if (n < 2) return undefined
    const mid = n >> 1
    const at = this.#ends[mid - 1] as number
    return [
      new LinesPayload(this.#shape, this.#lines.subarray(0, at), this.#ends.slice(0, mid), false),
      new LinesPayload(
        this.#shape,
        this.#lines.subarray(at),
        this.#ends.slice(mid).map((e) => e - at),
        false,
      ),
    ]
  }
}

/** A buffer lines are rendered into, a run of entries at a time. */
interface LineBuffer {
  /** Bytes rendered since the last take(). */
  readonly pending: number
  /** Those bytes (valid until the next render: a writer may move them to grow). */
  readonly bytes: Buffer
  /**
   * Renders the lines of entries k … to-1 at pos, as many as fit behind what
   * is pending; returns the first entry not rendered (k when none fit).
   */
  render(k: number, to: number): number
  /** A copy of the pending bytes [0, upTo); they are forgotten (positions after upTo move down by upTo). */
  take(upTo: number): Buffer
  /** Makes room after a take() of everything pending: a later render() of a line alone always fits. */
  compact(): void
}

/**
 * Cuts entries 0 … n-1, rendered into `buffer`, into payloads within the
 * limits. Entries are rendered in runs (one call into the renderer for many
 * lines), and the lines found by their newlines: a JSON line holds none of its own.
 */
function cut(n: number, buffer: LineBuffer, shape: Shape, limits: LinesOptions): Payload[] {
  const out: Payload[] = []
  let ends: number[] = []
  let bytes = 0
  const flush = (upTo: number) => {
    if (ends.length > 0) out.push(new LinesPayload(shape, buffer.take(upTo), ends, false))
    ends = []
    bytes = 0
  }
  let k = 0
  while (k < n) {
    const start = buffer.pending
    // At most what the current payload has room for, so that lines past it are rarely rendered.
    const next = buffer.render(k, Math.min(n, k + Math.max(1, limits.maxEntries - ends.length)))
    if (next === k) {
      flush(start)
      buffer.compact()
      continue
    }
    const lines = buffer.bytes
    let taken = 0 // what this loop took, by which later positions in `lines` moved down
    for (let p = start; p < lines.length; ) {
      const end = lines.indexOf(NEWLINE, p) + 1
      const length = end - p
      if (length + shape.overhead > limits.maxBytes) {
        flush(p - taken)
        taken = p
        out.push(new LinesPayload(shape, buffer.take(end - taken), [length], true))
        taken = end
      } else {
        if (ends.length >= limits.maxEntries || bytes + length + shape.overhead > limits.maxBytes) {
          flush(p - taken)
          taken = p
        }
        bytes += length
        ends.push(bytes)
      }
      p = end
    }
    k = next
  }
  flush(buffer.pending)
  return out
}

/** Entries through JsonLineWriter (it grows by itself: every line fits). */
function entryLines(writer: JsonLineWriter, entries: readonly LogEntry[]): LineBuffer {
  return {
    get pending() {
      return writer.pos - writer.base
    },
    get bytes() {
      return writer.buf.subarray(writer.base, writer.pos)
    },
    render(k, to) {
      for (let i = k; i < to; i++) writer.json(entries[i] as LogEntry)
      return to
    },
    take: (upTo) => Buffer.from(writer.take(writer.base + upTo)),
    compact: () => writer.rewind(),
  }
}

/**
 * The rows of a write's batches, one after the other, through JsonRenderer
 * (which renders as many lines as fit). k only grows.
 */
function batchLines(renderer: JsonRenderer, batches: readonly EntryBatch[]): LineBuffer {
  let base = 0
  let b = 0
  let first = 0
  return {
    get pending() {
      return renderer.pos - base
    },
    get bytes() {
      return renderer.out.subarray(base, renderer.pos)
    },
    render(k, to) {
      let batch = batches[b] as EntryBatch
      while (k - first >= batch.length) {
        first += batch.length
        batch = batches[++b] as EntryBatch
      }
      // Within this batch; the next call goes on into the next one.
      const row = k - first
      const stop = renderer.renderSelection(batch.index, batch.rows, row, Math.min(batch.length, to - first))
      return first + stop
    },
    take(upTo) {
      const bytes = Buffer.from(renderer.out.subarray(base, base + upTo))
      base += upTo
      return bytes
    },
    compact() {
      // After a take() of everything pending: start again at the beginning (an empty renderer grows for a line).
      renderer.out.copyWithin(0, base, renderer.pos)
      renderer.pos -= base
      base = 0
    },
  }
}

export function linesRenderer(options: LinesOptions): Renderer {
  const shape = new Shape(options.preset, options.template)
  const writer = new JsonLineWriter(64 * 1024)
  const renderer = new JsonRenderer({ size: Math.min(options.maxBytes + 4096, 4 * 1024 * 1024) })
  const invalid = (before: number, after: number) => {
    if (after > before) options.onInvalidFields?.(after - before)
  }
  return {
    entries(entries) {
      const before = writer.invalidFields
      writer.rewind()
      const payloads = cut(entries.length, entryLines(writer, entries), shape, options)
      invalid(before, writer.invalidFields)
      return payloads
    },
    batches(batches) {
      const before = renderer.invalidFields
      let n = 0
      for (const batch of batches) n += batch.length
      renderer.reset()
      const payloads = cut(n, batchLines(renderer, batches), shape, options)
      invalid(before, renderer.invalidFields)
      return payloads
    },
  }
}
