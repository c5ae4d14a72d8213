// What the sink publishes: entries grouped by subject into messages of at most
// maxMessageEntries entries and maxMessageBytes bytes, each with the message
// id JetStream drops re-publishes by.
//
//   frames   one logkit frame per message: 'L' 'K' 1 FRAME_FLAG_HASH len hash,
//            Frame { batch { entry, entry, … } }. From the byte path the
//            entries' bytes are copied as they came (nothing re-encoded);
//            decoded entries are encoded once.
//   ndjson   one line per entry, logkit's json format (core's JsonRenderer on
//            the byte path, formatJson otherwise).
//
// Message id: `<host>/<pid>/<seq>..<host>/<pid>/<seq>#<n>.<hash>` from the
// first and last entries, the count, and the payload's frame hash. The same
// write retried makes the same messages, so the same ids, and JetStream's
// duplicate window drops what it had stored; a different message that
// happens to cover the same seq range (entries of the same producer batched
// differently after a collector restart) has another id, and its entries
// reach the consumers twice: `dedupe` removes them by (host, pid, seq).

import {
  FRAME_FLAG_HASH,
  formatJson,
  frameHash,
  type LogEntry,
  ProtoWriter,
  putVarint,
  varintSize,
  writeEntry,
  writeFrameHeader,
} from '@logkit/core'
import {
  type EntryBatch,
  type EntryIndex,
  JsonRenderer,
  SPAN_APP,
  SPAN_ENTRY,
  SPAN_HOSTNAME,
  SPAN_SOURCE,
  SPAN_STRIDE,
} from '@logkit/core/wire'
import type { Encoding } from './options.js'

export interface OutMessage {
  readonly subject: string
  readonly data: Uint8Array
  readonly msgID: string
  readonly entries: number
}

interface Identity {
  host: string
  pid: number
  seq: number
}

const FRAME_HEADER_SIZE = 12
const FRAME_BATCH = 0x0a
const BATCH_ENTRY = 0x0a
/** Room for the batch's tag and length varint between the header and the entries. */
const BATCH_HEAD_MAX = 1 + 5

/** A NATS subject token made of any text: '.', '*', '>', spaces and control characters become '_', nothing becomes '_'. */
export function subjectToken(text: string): string {
  if (text === '') return '_'
  let out = ''
  for (const c of text) out += c === '.' || c === '*' || c === '>' || c <= ' ' || c === '\x7f' ? '_' : c
  return out
}

/** The subject template's placeholders, filled per entry, remembered by name. */
export class Subjects {
  readonly #template: string
  readonly #fixed: string | undefined
  readonly #cache = new Map<string, string>()
  // The last row's strings' bytes (buffer and span), compared before decoding anything.
  #lastBuf: Buffer | undefined
  readonly #last = new Uint32Array(6)
  #lastSubject = ''

  constructor(template: string) {
    this.#template = template
    this.#fixed = /\{(app|source|host)\}/.test(template) ? undefined : template
  }

  of(app: string, source: string, host: string): string {
    if (this.#fixed !== undefined) return this.#fixed
    const key = `${app}\0${source}\0${host}`
    let subject = this.#cache.get(key)
    if (subject === undefined) {
      subject = this.#template
        .replaceAll('{app}', subjectToken(app))
        .replaceAll('{source}', subjectToken(source))
        .replaceAll('{host}', subjectToken(host))
      if (this.#cache.size >= 4096) this.#cache.clear()
      this.#cache.set(key, subject)
    }
    return subject
  }

  forEntry(entry: LogEntry): string {
    return this.of(entry.app, entry.source, entry.hostname)
  }

  /** Row `row` of `index`: decodes its app, source and host only when they differ from the last row's. */
  forRow(index: EntryIndex, row: number): string {
    if (this.#fixed !== undefined) return this.#fixed
    const spans = index.spans
    const at = row * SPAN_STRIDE
    const buf = index.buf
    const last = this.#last
    if (
      this.#lastBuf !== undefined &&
      sameBytes(
        buf,
        spans[at + SPAN_APP] as number,
        spans[at + SPAN_APP + 1] as number,
        this.#lastBuf,
        last[0] as number,
        last[1] as number,
      ) &&
      sameBytes(
        buf,
        spans[at + SPAN_SOURCE] as number,
        spans[at + SPAN_SOURCE + 1] as number,
        this.#lastBuf,
        last[2] as number,
        last[3] as number,
      ) &&
      sameBytes(
        buf,
        spans[at + SPAN_HOSTNAME] as number,
        spans[at + SPAN_HOSTNAME + 1] as number,
        this.#lastBuf,
        last[4] as number,
        last[5] as number,
      )
    ) {
      return this.#lastSubject
    }
    this.#lastBuf = buf
    last[0] = spans[at + SPAN_APP] as number
    last[1] = spans[at + SPAN_APP + 1] as number
    last[2] = spans[at + SPAN_SOURCE] as number
    last[3] = spans[at + SPAN_SOURCE + 1] as number
    last[4] = spans[at + SPAN_HOSTNAME] as number
    last[5] = spans[at + SPAN_HOSTNAME + 1] as number
    this.#lastSubject = this.of(
      index.text(row, SPAN_APP),
      index.text(row, SPAN_SOURCE),
      index.text(row, SPAN_HOSTNAME),
    )
    return this.#lastSubject
  }

  /** Forget the last row's bytes (they are valid only during one write). */
  release(): void {
    this.#lastBuf = undefined
  }
}

function sameBytes(a: Buffer, a0: number, a1: number, b: Buffer, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false
  if (a === b && a0 === b0) return true
  for (let i = 0; i < a1 - a0; i++) if (a[a0 + i] !== b[b0 + i]) return false
  return true
}

function messageId(first: Identity, last: Identity, n: number, hash: number): string {
  return `${idHost(first.host)}/${first.pid}/${first.seq}..${idHost(last.host)}/${last.pid}/${last.seq}#${n}.${hash.toString(36)}`
}

/** A host name as a header value takes it: control characters (CR and LF above all) become `_`, at most 128 characters. */
export function idHost(host: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const clean = /[\x00-\x1f\x7f]/.test(host) ? host.replace(/[\x00-\x1f\x7f]/g, '_') : host
  return clean.length > 128 ? clean.slice(0, 128) : clean
}

/** The entries of one subject being gathered into a message. */
interface Builder {
  readonly subject: string
  /** frames: entry records (tag, length, bytes) from BATCH_HEAD_MAX + FRAME_HEADER_SIZE on; ndjson: lines from 0. */
  buf: Buffer
  pos: number
  entries: number
  first: Identity
  // The last entry's identity; from the byte path its host is read only when the message is sealed.
  lastPid: number
  lastSeq: number
  lastHost: string | undefined
  lastIndex: EntryIndex | undefined
  lastRow: number
}

/**
 * Turns one write's entries into messages. Made per sink and reused: `add*`
 * the write's entries, then `take()` the messages (in order per subject).
 * An entry that alone does not fit `maxBytes` is left out and counted in
 * `tooLarge`.
 */
export class MessageMaker {
  readonly #encoding: Encoding
  #maxBytes: number
  readonly #maxEntries: number
  readonly #subjects: Subjects
  readonly #builders = new Map<string, Builder>()
  /** The builder used last, asked first (one subject is the usual case). */
  #lastSubject: string | undefined
  #lastBuilder: Builder | undefined
  #out: OutMessage[] = []
  readonly #writer = new ProtoWriter()
  readonly #renderer = new JsonRenderer({ size: 64 * 1024 })
  tooLarge = 0
  /** Entries whose fields were not one JSON object (ndjson writes them quoted), since the maker was made. */
  invalidFields = 0

  constructor(options: { encoding: Encoding; maxBytes: number; maxEntries: number; subject: string }) {
    this.#encoding = options.encoding
    this.#maxBytes = options.maxBytes
    this.#maxEntries = options.maxEntries
    this.#subjects = new Subjects(options.subject)
  }

  /** Lowers the largest message to `bytes` (the server takes less than maxMessageBytes); from the next entry on. */
  limitBytes(bytes: number): void {
    this.#maxBytes = Math.min(this.#maxBytes, bytes)
  }

  get maxBytes(): number {
    return this.#maxBytes
  }

  /** Decoded entries (the write() path). */
  addEntries(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      const subject = this.#subjects.forEntry(entry)
      if (this.#encoding === 'frames') {
        const w = this.#writer
        w.reset(0)
        writeEntry(w, entry)
        this.#addRecord(subject, w.buf, 0, w.pos, entry.pid, entry.seq, entry.hostname)
      } else {
        const line = Buffer.from(`${formatJson(entry)}\n`)
        if (!entry.fields.wellFormed) this.invalidFields++
        this.#addRecord(subject, line, 0, line.length, entry.pid, entry.seq, entry.hostname)
      }
    }
  }

  /** Entries that are still bytes (the byte path): copied, or rendered by copy. */
  addBatches(batches: readonly EntryBatch[]): void {
    const subjects = this.#subjects
    for (const batch of batches) {
      const index = batch.index
      if (this.#encoding === 'ndjson') {
        // Runs of rows of one subject are rendered by one call, then taken line by line.
        for (let k = 0; k < batch.length; ) {
          const subject = subjects.forRow(index, batch.row(k))
          let end = k + 1
          while (end < batch.length && subjects.forRow(index, batch.row(end)) === subject) end++
          this.#addLines(subject, batch, k, end)
          k = end
        }
        continue
      }
      const spans = index.spans
      for (let k = 0; k < batch.length; k++) {
        const row = batch.row(k)
        const at = row * SPAN_STRIDE + SPAN_ENTRY
        this.#addRecord(
          subjects.forRow(index, row),
          index.buf,
          spans[at] as number,
          spans[at + 1] as number,
          index.pid[row] as number,
          index.seq[row] as number,
          undefined,
          index,
          row,
        )
      }
    }
    subjects.release()
  }

  /** Rows from … to-1 of a batch, all of one subject, as JSON lines (JsonRenderer: copied, not decoded). */
  #addLines(subject: string, batch: EntryBatch, from: number, to: number): void {
    const renderer = this.#renderer
    const index = batch.index
    for (let k = from; k < to; ) {
      renderer.reset()
      const before = renderer.invalidFields
      const stop = renderer.renderSelection(index, batch.rows, k, to)
      this.invalidFields += renderer.invalidFields - before
      const out = renderer.out
      let start = 0
      for (; k < stop; k++) {
        const row = batch.row(k)
        if (index.valid[row] === 0) continue // rendered as nothing
        // A JSON line holds no raw newline (escaped): each ends at the next one.
        const end = out.indexOf(10, start) + 1
        this.#addRecord(
          subject,
          out,
          start,
          end,
          index.pid[row] as number,
          index.seq[row] as number,
          undefined,
          index,
          row,
        )
        start = end
      }
    }
  }

  /** The messages of everything added, sealed; the maker is empty again. */
  take(): OutMessage[] {
    for (const builder of this.#builders.values()) if (builder.entries > 0) this.#seal(builder)
    this.#builders.clear()
    this.#lastSubject = undefined
    this.#lastBuilder = undefined
    const out = this.#out
    this.#out = []
    return out
  }

  /** One entry's record: its bytes, and its identity (host given, or read from row of index when needed). */
  #addRecord(
    subject: string,
    src: Buffer,
    start: number,
    end: number,
    pid: number,
    seq: number,
    host: string | undefined,
    index?: EntryIndex,
    row = 0,
  ): void {
    const length = end - start
    const frames = this.#encoding === 'frames'
    const recordSize = frames ? 1 + varintSize(length) + length : length
    const overhead = frames ? FRAME_HEADER_SIZE + BATCH_HEAD_MAX : 0
    if (overhead + recordSize > this.#maxBytes) {
      this.tooLarge++
      return
    }
    let builder = subject === this.#lastSubject ? this.#lastBuilder : this.#builders.get(subject)
    if (
      builder !== undefined &&
      (builder.pos + recordSize > this.#maxBytes || builder.entries >= this.#maxEntries)
    ) {
      this.#seal(builder)
    }
    if (builder === undefined) {
      builder = {
        subject,
        buf: Buffer.allocUnsafe(Math.min(this.#maxBytes, Math.max(16 * 1024, overhead + recordSize * 64))),
        pos: overhead,
        entries: 0,
        first: { host: '', pid: 0, seq: 0 },
        lastPid: 0,
        lastSeq: 0,
        lastHost: undefined,
        lastIndex: undefined,
        lastRow: 0,
      }
      this.#builders.set(subject, builder)
    }
    this.#lastSubject = subject
    this.#lastBuilder = builder
    if (builder.entries === 0) {
      builder.first = {
        host: host ?? (index === undefined ? '' : index.text(row, SPAN_HOSTNAME)),
        pid,
        seq,
      }
    }
    builder.lastPid = pid
    builder.lastSeq = seq
    builder.lastHost = host
    builder.lastIndex = index
    builder.lastRow = row
    if (builder.pos + recordSize > builder.buf.length) {
      const grown = Buffer.allocUnsafe(
        Math.min(this.#maxBytes, Math.max(builder.buf.length * 2, builder.pos + recordSize)),
      )
      builder.buf.copy(grown, 0, 0, builder.pos)
      builder.buf = grown
    }
    const buf = builder.buf
    let p = builder.pos
    if (frames) {
      buf[p++] = BATCH_ENTRY
      p = putVarint(buf, p, length)
    }
    // Short spans byte by byte: Buffer#copy is a native call each.
    if (length < 64) for (let i = 0; i < length; i++) buf[p + i] = src[start + i] as number
    else src.copy(buf, p, start, end)
    builder.pos = p + length
    builder.entries++
  }

  #seal(builder: Builder): void {
    const last: Identity = {
      host:
        builder.lastHost ??
        (builder.lastIndex === undefined ? '' : builder.lastIndex.text(builder.lastRow, SPAN_HOSTNAME)),
      pid: builder.lastPid,
      seq: builder.lastSeq,
    }
    builder.lastIndex = undefined
    let data: Buffer
    let hash: number
    if (this.#encoding === 'frames') {
      const records = builder.pos - FRAME_HEADER_SIZE - BATCH_HEAD_MAX
      const head = 1 + varintSize(records)
      const payload = head + records
      data = Buffer.allocUnsafe(FRAME_HEADER_SIZE + payload)
      data[FRAME_HEADER_SIZE] = FRAME_BATCH
      putVarint(data, FRAME_HEADER_SIZE + 1, records)
      builder.buf.copy(data, FRAME_HEADER_SIZE + head, FRAME_HEADER_SIZE + BATCH_HEAD_MAX, builder.pos)
      hash = frameHash(
        new DataView(data.buffer, data.byteOffset, data.length),
        FRAME_HEADER_SIZE,
        data.length,
      )
      writeFrameHeader(data, 0, payload, hash, FRAME_FLAG_HASH)
    } else {
      data = Buffer.from(builder.buf.subarray(0, builder.pos))
      hash = frameHash(new DataView(data.buffer, data.byteOffset, data.length), 0, data.length)
    }
    this.#out.push({
      subject: builder.subject,
      data,
      msgID: messageId(builder.first, last, builder.entries, hash),
      entries: builder.entries,
    })
    builder.pos = this.#encoding === 'frames' ? FRAME_HEADER_SIZE + BATCH_HEAD_MAX : 0
    builder.entries = 0
  }
}
