// createFileSink: the plain building block behind `use: file`.
//
//   write(entries) ────────┐
//   writeEntries(batches) ─┴▶ lane (one step at a time: rotate, guard, render, hand over) ─▶ Output (sonic-boom) ─▶ path
//                                  │ rotation: close ─ rename ─ reopen
//                                  └▶ background (one job at a time): gzip, retention
//
// Both kinds of write go through the same steps (#hand); only the rendering
// differs. Entries (LogEntry) are rendered by JsonLineWriter or the format's
// formatter; batches of entries that are still bytes (EntryBatch) are, with
// format json, rendered by copying their bytes (BatchLines), byte for byte
// the lines their decoded entries would give, and decoded only for the
// history. Other formats decode them and write the entries.
//
// Steps that change which file is written (rotation, reopen) go through the
// lane, so a batch is never split between files except at a line boundary a
// size rotation chose. A write resolves once sonic-boom has handed its last
// byte to the OS (after an fsync too with `fsync: 'always'`); flush() resolves
// after the fsync. Compression and retention never hold up a write.

import { closeSync, readdirSync } from 'node:fs'
import { lstat, rename, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  createFormatter,
  type DiagnosticReporter,
  type EntryBatch,
  formatJson,
  INVALID_FIELDS_KEY,
  ignoreDiagnostics,
  JsonLineWriter,
  type LogEntry,
  LogkitError,
  makeDirs,
  PLUGIN_API_VERSION,
  type Sink,
  syncDir,
  validateOptions,
} from '@logkit/core'
import { BatchLines } from './batch-lines.js'
import { gzipFile } from './compress.js'
import type { FileSinkReporter } from './diagnostics.js'
import { fileSinkError } from './errors.js'
import { History } from './history.js'
import { historyPathOf, type Naming, namingFor, periodKey, periodOf } from './naming.js'
import { type FileSinkClock, type FileSinkConfig, type FileSinkOptions, fileSinkOptions } from './options.js'
import { Output } from './output.js'
import {
  type OwnershipRecord,
  readRecord,
  recordMatches,
  recordOf,
  recordPathOf,
  writeRecord,
} from './ownership.js'
import { expired, scanRotated } from './retention.js'
import { endsInNewline, type OpenedFile, openLogFile, repairTornTail } from './safe-open.js'
import { SpaceGuard } from './space-guard.js'
import { parseSize } from './units.js'

export interface FileSinkStats {
  readonly path: string
  /** Entries handed to the OS. */
  readonly entries: number
  readonly bytes: number
  /** Entries the free-space guard's drop policy let go. */
  readonly dropped: number
  readonly rotations: number
  readonly compressed: number
  /** Rotated files retention removed. */
  readonly removed: number
  /** Reopens of the same path (SIGHUP, reopen(), recovery after a failed write). */
  readonly reopens: number
  /** True while the free-space guard holds or drops writes. */
  readonly diskLow: boolean
}

export interface FileSink extends Sink {
  /** Resolves when the batch is in the OS (and fsync'd, with `fsync: 'always'`); rejects to be retried. */
  write(batch: readonly LogEntry[]): Promise<void>
  /**
   * The byte path: the same as write() with the batches' entries, decoded,
   * one after the other (the same bytes in the file). With format json, the
   * lines are rendered by copying the batches' bytes, which are not used
   * once the promise settles.
   */
  writeEntries(batches: readonly EntryBatch[]): Promise<void>
  /** Resolves when everything written so far is fsync'd (unless `fsync: 'never'`), and the history file written. */
  flush(): Promise<void>
  /** Writes, fsyncs and closes the file, then waits for background compression and retention. */
  close(): Promise<void>
  /** Closes the file and opens `path` again (what SIGHUP does): after an external rename, a new file. */
  reopen(): Promise<void>
  /** Rotates now, whatever the size or time. */
  rotate(): Promise<void>
  /** Changes the free-space threshold at run time (bytes or '1GiB'; 0 turns the guard off). */
  setMinFreeBytes(bytes: number | string): void
  /** Resolves when background compression and retention have caught up. */
  settled(): Promise<void>
  readonly path: string
  /** Where the last entries are kept, with the `history` option. */
  readonly historyPath: string | undefined
  readonly stats: FileSinkStats
}

/** What the sink reports to, and (plain API) the clock it reads. */
export interface FileSinkContext {
  readonly report?: DiagnosticReporter | undefined
  readonly clock?: FileSinkClock | undefined
}

const schemaHolder = { kind: 'sink', name: 'file', apiVersion: PLUGIN_API_VERSION, options: fileSinkOptions }

/**
 * An append-only, rotating file sink. Options are validated first
 * (LOGKIT_ERR_OPTIONS_INVALID); the file is then opened at once, so a bad path
 * throws here (LOGKIT_ERR_FILE_*), not at the first write.
 *
 * @example
 * ```ts
 * const sink = createFileSink({ path: 'logs/app.log', mkdir: true, rotate: { size: '10MiB', keep: 5, compress: true } })
 * const pipeline = createPipeline({ sources: [...], sinks: [sink] })
 * ```
 */
export function createFileSink(options: FileSinkOptions, context: FileSinkContext = {}): FileSink {
  const { clock, ...rest } = options
  const config = validateOptions(schemaHolder, rest)
  return openFileSink(config, { report: context.report, clock: clock ?? context.clock })
}

/** The sink from options already validated by the schema (the manifest path). */
export function openFileSink(config: FileSinkConfig, context: FileSinkContext = {}): FileSink {
  return new FileSinkImpl(config, context.report ?? ignoreDiagnostics, context.clock ?? Date)
}

const noop = () => {}
const RESOLVED = Promise.resolve()
/** Bytes of a line buffer at first (it grows for a larger write). */
const LINE_BUFFER = 256 * 1024

interface Handed {
  readonly done: Promise<void>
}

/** Where #hand renders a write's lines: JsonLineWriter (entries) or BatchLines (batches). */
interface LineBuffer {
  readonly pos: number
  /** Bytes rendered since the last take(). */
  readonly pending: number
  readonly invalidFields: number
  /** The pending bytes up to `upTo`, never written again. */
  take(upTo: number): Buffer
  /** Forgets the pending bytes. */
  discard(): void
  /** Renders from the buffer's start again: only when no append holds taken bytes. */
  rewind(): void
}

/** The parts a write comes in: write()'s array of entries, or each of writeEntries()'s batches. */
interface Part {
  /** Entries in the part. */
  readonly length: number
}

/** How #hand renders one kind of write. */
interface Rendering<P extends Part> {
  readonly lines: LineBuffer
  /** Renders entry k of `part`, its line and newline, into `lines`. */
  line(part: P, k: number): void
  /** Optional: renders every entry of `part`, as line() for each would, in one go (no size rotation to watch). */
  all?(part: P): void
  /** Entry k of `part` for the history; undefined when its bytes no longer decode. */
  entry(part: P, k: number): LogEntry | undefined
}

class FileSinkImpl implements FileSink {
  readonly path: string
  readonly historyPath: string | undefined
  readonly #config: FileSinkConfig
  readonly #report: FileSinkReporter
  readonly #clock: FileSinkClock
  readonly #naming: Naming
  /** Where the record of which bytes of the live file are ours is kept (ownership.ts). */
  readonly #recordPath: string
  readonly #render: (entry: LogEntry) => string
  readonly #rendersJson: boolean
  /** How write()'s entries are rendered (see #hand). */
  readonly #entryRendering: Rendering<readonly LogEntry[]>
  /** How writeEntries()'s batches are rendered: by copying their bytes, with format json only. */
  readonly #batchRendering: Rendering<EntryBatch> | undefined
  readonly #history: History | undefined
  readonly #guard: SpaceGuard
  readonly #abort = new AbortController()
  readonly #onHup: () => void
  /** Highest rotation index used per period key, from the start-up scan on. */
  readonly #indexes = new Map<string, number>()
  #out: Output
  #period: { start: number; end: number } | undefined
  /** After a failed rotation, the size the file may reach before the next try. */
  #retryRotationAt = 0
  #lane: Promise<unknown> = RESOLVED
  /** Appends whose bytes a writer may still hold (taken from a line buffer, not yet settled). */
  #appendsHeld = 0
  readonly #appendSettled = (): void => {
    this.#appendsHeld--
  }
  #background: Promise<void> = RESOLVED
  #closing: Promise<void> | undefined
  #entries = 0
  #bytes = 0
  #rotations = 0
  #compressed = 0
  #removed = 0
  #reopens = 0

  constructor(config: FileSinkConfig, report: FileSinkReporter, clock: FileSinkClock) {
    this.#config = config
    this.#report = report
    this.#clock = clock
    this.path = resolve(config.path)
    this.#naming = namingFor(this.path)
    this.#recordPath = recordPathOf(this.path)
    this.#render = createFormatter({
      format: config.format,
      template: config.template,
      colors: config.colors ?? false,
      timeFormat: config.timeFormat,
    })
    this.#rendersJson = this.#render === formatJson
    this.#entryRendering = entryRendering(this.#render, this.#rendersJson)
    this.#batchRendering = this.#rendersJson ? batchRendering() : undefined
    if (config.mkdir) {
      // A folder readable by whoever may read the files: 0600 → 0700, 0640 → 0750.
      try {
        makeDirs(this.#naming.dir, 0o700 | config.mode | ((config.mode & 0o044) >> 2))
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code ?? 'error'
        throw fileSinkError(
          'LOGKIT_ERR_FILE_OPEN',
          `cannot create the folder of log file ${this.path} (${code}): ${this.#naming.dir} is not a place files can be made in; pick another path`,
          { cause, details: { dir: this.#naming.dir } },
        )
      }
    }
    this.#out = this.#openOutput()
    this.#scanIndexes()
    this.#guard = new SpaceGuard({
      dir: this.#naming.dir,
      minFreeBytes: config.minFreeBytes,
      policy: config.policy,
      checkIntervalMs: config.spaceCheckIntervalMs,
      report,
    })
    if (config.history > 0) {
      this.historyPath = historyPathOf(this.path)
      this.#history = new History(this.historyPath, config.history, config.mode)
      this.#history.load()
    }
    this.#onHup = () => {
      this.reopen().catch((err) =>
        this.#report({
          code: 'reopen_failed',
          level: 50,
          message: `reopening ${this.path} on SIGHUP failed (${errorText(err)}): the next write tries again`,
          details: { path: this.path },
        }),
      )
    }
    if (config.reopenOnSighup) process.on('SIGHUP', this.#onHup)
    if (config.rotate !== undefined) this.#inBackground('recovery', () => this.#recover())
  }

  get stats(): FileSinkStats {
    return {
      path: this.path,
      entries: this.#entries,
      bytes: this.#bytes,
      dropped: this.#guard.dropped,
      rotations: this.#rotations,
      compressed: this.#compressed,
      removed: this.#removed,
      reopens: this.#reopens,
      diskLow: this.#guard.low,
    }
  }

  write(batch: readonly LogEntry[]): Promise<void> {
    return this.#write(this.#entryRendering, [batch], batch.length)
  }

  writeEntries(batches: readonly EntryBatch[]): Promise<void> {
    const rendering = this.#batchRendering
    if (rendering === undefined) {
      // Formats for people read the decoded entries.
      let entries: LogEntry[]
      try {
        entries = batches.flatMap((batch) => batch.entries())
      } catch (err) {
        return Promise.reject(err)
      }
      return this.write(entries)
    }
    let count = 0
    for (const batch of batches) count += batch.length
    return this.#write(rendering, batches, count)
  }

  flush(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing
    return this.#step((): Handed => {
      // What the guard dropped is reported before the flush resolves, so that
      // whoever flushes (logkit flush) can count it.
      this.#guard.reportDrops()
      return { done: this.#sync() }
    }).then((handed) => handed.done)
  }

  reopen(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError('reopen'))
    return this.#step(() => this.#replaceOutput())
  }

  rotate(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError('rotate'))
    return this.#step(() => this.#rotateNow())
  }

  setMinFreeBytes(bytes: number | string): void {
    const parsed = parseSize(bytes)
    if (parsed === undefined) {
      const message = `expected bytes or text such as '1GiB', found ${JSON.stringify(bytes)}`
      throw new LogkitError('LOGKIT_ERR_OPTIONS_INVALID', `sink "file": option "minFreeBytes": ${message}`, {
        details: { name: 'file', kind: 'sink', issues: [{ path: ['minFreeBytes'], message }] },
      })
    }
    this.#guard.setMinFreeBytes(parsed)
  }

  async settled(): Promise<void> {
    let seen: Promise<void>
    do {
      seen = this.#background
      await seen
    } while (seen !== this.#background)
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    // A write the free-space guard holds gives up now: it was never written.
    this.#abort.abort(this.#closedError('write'))
    process.off('SIGHUP', this.#onHup)
    await this.#lane
    await this.#out.close()
    await this.#persistHistory()
    this.#guard.reportDrops()
    await this.settled()
  }

  /** A write of `count` entries in `parts`: one step of the lane. */
  #write<P extends Part>(how: Rendering<P>, parts: readonly P[], count: number): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError('write'))
    if (count === 0) return RESOLVED
    return this.#step(() => this.#hand(how, parts, count)).then((handed) => handed.done)
  }

  /** Runs `fn` after every earlier step; a failed step does not stop the ones after it. */
  #step<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.#lane.then(fn)
    this.#lane = run.then(noop, noop)
    return run
  }

  /**
   * Hands a write (`count` entries in `parts`) to the file; what it returns
   * resolves when the OS has all of it.
   */
  async #hand<P extends Part>(how: Rendering<P>, parts: readonly P[], count: number): Promise<Handed> {
    if (!(await this.#ready(count))) return { done: RESOLVED }
    const max = this.#config.rotate?.size
    const history = this.#history
    // History keeps the last N entries: only those are added (and a batch's decoded for it).
    const keepFrom = count - this.#config.history
    const appended: Promise<void>[] = []
    // The write is rendered as UTF-8 into a line buffer (JSON lines
    // straight, no string per line) and handed to the file whole, or in two
    // parts around a rotation: each part ends the write for its file, which
    // is where a failed write cuts that file back to.
    const lines = how.lines
    lines.discard() // what a write that failed while rendering left
    // Every byte taken is written (or given up): the lines go to the buffer's start, still in the cache.
    if (this.#appendsHeld === 0) lines.rewind()
    const invalidBefore = lines.invalidFields
    let handed = 0
    const handOver = (upTo: number) => {
      const bytes = lines.take(upTo)
      if (bytes.length === 0) return
      handed += bytes.length
      this.#guard.wrote(bytes.length)
      const part = this.#out.append(bytes)
      this.#appendsHeld++
      // Handled here too: it may fail while a rotation below is awaited.
      part.then(this.#appendSettled, this.#appendSettled)
      appended.push(part)
    }
    let k = 0 // the entry's position in the write
    for (const part of parts) {
      const n = part.length
      if (max === undefined && how.all !== undefined) {
        // No size to watch: the part's lines in one go, then the history's share of them.
        how.all(part)
        for (let j = Math.max(0, keepFrom - k); j < n; j++) {
          const entry = how.entry(part, j)
          if (entry !== undefined) history?.add(entry)
        }
        k += n
        continue
      }
      for (let j = 0; j < n; j++, k++) {
        const before = lines.pending
        how.line(part, j)
        if (k >= keepFrom) {
          const entry = how.entry(part, j)
          if (entry !== undefined) history?.add(entry)
        }
        if (max !== undefined) {
          // Whole lines only: a line that does not fit starts the next file (an
          // oversized line still gets a file of its own).
          const limit = Math.max(max, this.#retryRotationAt)
          if (this.#out.size + lines.pending > limit && this.#out.size + before > 0) {
            handOver(lines.pos - (lines.pending - before))
            await this.#rotateNow()
          }
        }
      }
    }
    handOver(lines.pos)
    let done = appended.length === 1 ? (appended[0] as Promise<void>) : Promise.all(appended).then(noop)
    if (this.#config.fsync === 'always') {
      const last = this.#out
      done = done.then(() => last.sync())
    }
    // Counted for this attempt only, and reported once it is written: a
    // retried write is rendered (and counted) again.
    const invalid = lines.invalidFields - invalidBefore
    return {
      done: done.then(() => {
        this.#entries += count
        this.#bytes += handed
        if (invalid > 0) this.#reportInvalidFields(invalid)
      }),
    }
  }

  /**
   * What comes before a write renders: a fresh output after a failed write, a
   * time rotation that is due, the free-space guard (false: it dropped the
   * write's `count` entries), a copytruncate noticed.
   */
  async #ready(count: number): Promise<boolean> {
    // A failed write left the output closing: start a fresh one on the same path.
    if (this.#out.closing) await this.#replaceOutput()
    if (this.#period !== undefined && this.#clock.now() >= this.#period.end) await this.#rotateNow()
    if (!(await this.#guard.admit(this.#abort.signal))) {
      this.#guard.drop(count)
      return false
    }
    if (this.#config.copytruncate && this.#out.truncatedUnderUs()) {
      // The truncation emptied the file: what is in it now was written after, by us.
      const out = this.#out
      this.#saveRecord({ dev: out.dev, ino: out.ino, birth: out.birthtimeMs, offset: 0 })
      this.#report({
        code: 'file_truncated',
        level: 30,
        message: `${this.path} was truncated under the sink (copytruncate): writing on at its new end`,
        details: { path: this.path },
      })
    }
    return true
  }

  #reportInvalidFields(count: number): void {
    this.#report({
      code: 'fields_invalid',
      stage: 'sink',
      message: `${count} entries written to ${this.path} had fields that are not one JSON object on one line (a raw newline or control character, or not JSON): each was written as one line, its fields as the string "${INVALID_FIELDS_KEY}"; fix the producer that sends them`,
      count,
      details: { path: this.path },
    })
  }

  async #sync(): Promise<void> {
    const out = this.#out
    await (this.#config.fsync === 'never' ? out.drained() : out.sync())
    await this.#persistHistory()
  }

  async #persistHistory(): Promise<void> {
    try {
      await this.#history?.persist()
    } catch (err) {
      this.#report({
        code: 'history_failed',
        message: `writing the history file ${this.historyPath} failed (${errorText(err)}): logkit tail will show older history`,
        details: { path: this.historyPath },
      })
    }
  }

  /**
   * Opens `path`, creating it if needed, and settles which of its bytes are
   * ours (#claim). A non-empty file continues the period of its last write.
   */
  #openOutput(): Output {
    const file = openLogFile(this.path, this.#config.mode)
    const size = this.#claim(file)
    const now = this.#clock.now()
    const since = size > 0 ? file.mtimeMs : now
    const interval = this.#config.rotate?.interval
    this.#period = interval === undefined ? undefined : periodOf(since, interval, this.#config.timeFormat)
    return new Output(this.path, { ...file, size })
  }

  /**
   * The file's size once it is ready to append to. A file the record names is
   * ours from the record's offset on: a line a crash tore there is cut off
   * (and reported). Any other file (one we just created, or one that was
   * already there) is never changed: it gets a record saying our bytes start
   * at its end, unless it ends in a partial line, which we refuse to glue our
   * first line to (LOGKIT_ERR_FILE_FOREIGN_TAIL; the file is closed untouched).
   */
  #claim(file: OpenedFile): number {
    const record = readRecord(this.#recordPath)
    if (recordMatches(record, file)) {
      const removed = repairTornTail(file.fd, file.size, record.offset)
      if (removed > 0) {
        this.#report({
          code: 'torn_tail',
          message: `${this.path} ended in a line this sink wrote and a crash (or a failed write) cut short: removed its ${removed} bytes (they were never acknowledged)`,
          count: 1,
          details: { path: this.path, bytes: removed },
        })
      }
      return file.size - removed
    }
    if (!endsInNewline(file.fd, file.size)) {
      closeSync(file.fd)
      throw fileSinkError(
        'LOGKIT_ERR_FILE_FOREIGN_TAIL',
        `log file ${this.path} ends in a partial line this sink did not write (expected a file that is empty or ends with a newline, found ${file.size} bytes ending mid-line); it is left as it is: end it with a newline, move it away, or choose another path`,
        { details: { path: this.path, size: file.size } },
      )
    }
    this.#saveRecord(recordOf(file, file.size))
    return file.size
  }

  /** Writes the ownership record; a failure is reported, and the sink writes on without it. */
  #saveRecord(record: OwnershipRecord): void {
    try {
      writeRecord(this.#recordPath, record)
    } catch (err) {
      this.#report({
        code: 'record_failed',
        level: 40,
        message: `writing ${this.#recordPath} failed (${errorText(err)}): the sink writes on, but after a crash it cannot tell a line it tore from someone else's and will refuse to start (LOGKIT_ERR_FILE_FOREIGN_TAIL) until the line is ended by hand; make the folder writable`,
        details: { path: this.path, record: this.#recordPath },
      })
    }
  }

  /** Closes the file and opens the path again; the new one may be another file (after a rename). */
  async #replaceOutput(): Promise<void> {
    await this.#out.close()
    this.#out = this.#openOutput()
    this.#reopens++
  }

  /** Closes the file, renames it to its rotated name, opens a new one, and queues gzip and retention. */
  async #rotateNow(): Promise<void> {
    const old = this.#out
    const now = this.#clock.now()
    await old.close()
    const interval = this.#config.rotate?.interval
    const key =
      interval !== undefined && this.#period !== undefined
        ? periodKey(this.#period.start, interval, this.#config.timeFormat)
        : periodKey(now, 'daily', this.#config.timeFormat)
    let target: string | undefined
    // Only the file this sink wrote is renamed: if something else is at the
    // path now (an external rotation), it is left alone.
    const st = await lstat(this.path).catch(() => undefined)
    if (st?.isFile() && st.size > 0 && st.dev === old.dev && st.ino === old.ino) {
      const next = await this.#nextRotatedPath(key)
      try {
        await rename(this.path, next)
        target = next
        this.#rotations++
        this.#retryRotationAt = 0
      } catch (err) {
        // Part of a batch may already be written: failing the write would
        // have the runtime write that part twice. The file grows instead, by
        // another `size` before the next try, so that not every line retries.
        this.#retryRotationAt = old.size + (this.#config.rotate?.size ?? 0)
        this.#report({
          code: 'rotate_failed',
          level: 50,
          message: `rotating ${this.path} to ${next} failed (${errorText(err)}): writing on to the same file; fix the folder's permissions`,
          details: { path: this.path, target: next },
        })
      }
    }
    this.#out = this.#openOutput()
    if (this.#config.fsync !== 'never') await syncDir(this.#naming.dir)
    if (target !== undefined) {
      const rotated = target
      if (this.#config.rotate?.compress) this.#inBackground('compress', () => this.#compress(rotated))
      this.#inBackground('retention', () => this.#retain())
    }
    void this.#persistHistory()
  }

  async #nextRotatedPath(key: string): Promise<string> {
    let index = this.#indexes.get(key) ?? 0
    for (;;) {
      index++
      const path = join(this.#naming.dir, this.#naming.rotated(key, index))
      // A name already taken (by a file this sink did not count) is skipped, never overwritten.
      const taken = await Promise.all(
        [lstat(path), lstat(`${path}.gz`)].map((p) =>
          p.then(
            () => true,
            () => false,
          ),
        ),
      )
      if (!taken.includes(true)) {
        this.#indexes.set(key, index)
        return path
      }
    }
  }

  /** Start-up: the highest index used per period, so numbering continues after a restart. */
  #scanIndexes(): void {
    for (const name of readdirSync(this.#naming.dir)) {
      const parsed = this.#naming.parse(name)
      if (parsed === undefined) continue
      if (parsed.index > (this.#indexes.get(parsed.key) ?? 0)) this.#indexes.set(parsed.key, parsed.index)
    }
  }

  /**
   * Start-up, in the background: finishes what a crash interrupted. A
   * `.gz.partial` is removed; an original whose .gz exists (renamed into place
   * only when complete) is removed; an original not yet compressed is.
   */
  async #recover(): Promise<void> {
    const files = await scanRotated(this.#naming)
    const gz = new Set(files.filter((f) => f.compressed && !f.partial).map((f) => `${f.key}.${f.index}`))
    for (const f of files) {
      if (f.partial) {
        await unlink(f.path)
      } else if (!f.compressed && this.#config.rotate?.compress) {
        if (gz.has(`${f.key}.${f.index}`)) await unlink(f.path)
        else await this.#compress(f.path)
      }
    }
    await this.#retain()
  }

  async #compress(path: string): Promise<void> {
    try {
      await gzipFile(path, this.#config.mode)
      this.#compressed++
    } catch (err) {
      // Retention removed it first: nothing to compress.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
  }

  async #retain(): Promise<void> {
    const rotate = this.#config.rotate
    if (rotate?.keep === undefined && rotate?.maxAgeMs === undefined) return
    const files = await scanRotated(this.#naming)
    for (const f of expired(files, { keep: rotate.keep, maxAgeMs: rotate.maxAgeMs }, this.#clock.now())) {
      await unlink(f.path)
      this.#removed++
    }
  }

  #inBackground(what: 'recovery' | 'compress' | 'retention', job: () => Promise<void>): void {
    this.#background = this.#background.then(job).catch((err) =>
      this.#report({
        code: `${what}_failed`,
        level: 50,
        message: `${what} of rotated files next to ${this.path} failed (${errorText(err)}): the files are left as they are and tried again after the next rotation`,
        details: { path: this.path, stage: what },
      }),
    )
  }

  #closedError(what: string): LogkitError {
    return fileSinkError(
      'LOGKIT_ERR_FILE_CLOSED',
      `file sink for ${this.path} is closed: ${what}() after close() does nothing; create a new sink`,
      { details: { path: this.path } },
    )
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** write()'s entries: JSON lines straight into a JsonLineWriter, other formats through their formatter. */
function entryRendering(
  render: (entry: LogEntry) => string,
  rendersJson: boolean,
): Rendering<readonly LogEntry[]> {
  const lines = new JsonLineWriter(LINE_BUFFER)
  return {
    lines,
    line(entries, k) {
      const entry = entries[k] as LogEntry
      if (entry.line === undefined && rendersJson) lines.json(entry)
      else lines.line(entry.line ?? render(entry))
    },
    entry: (entries, k) => entries[k],
  }
}

/** writeEntries()'s batches as JSON lines, by copying their bytes. */
function batchRendering(): Rendering<EntryBatch> {
  const lines = new BatchLines(LINE_BUFFER)
  return {
    lines,
    line: (batch, k) => lines.line(batch, k),
    all: (batch) => lines.all(batch),
    entry(batch, k) {
      try {
        return batch.entry(k)
      } catch {
        // Bytes changed under the batch (they belong to its source): its
        // line is written as they are; the history goes on without it.
        return undefined
      }
    },
  }
}
