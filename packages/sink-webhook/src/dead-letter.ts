// The dead-letter file: where the entries of a request that was not delivered
// go, so that a write can be acknowledged without losing them. NDJSON: per
// request, one header line, then its entries as pino JSON lines (the file
// sink's lines: `jq`, `logkit emit` and the replay read them).
//
//   {"logkit_dead_letter":{"time":"…","sink":"alerts","endpoint":"https://hooks.slack.com","reason":"rejected","status":400,"attempts":1,"entries":2,"excerpt":"invalid_blocks"}}
//   {"level":50,"time":…,"msg":"…",…}
//   {"level":50,"time":…,"msg":"…",…}
//
// A record is appended with one write to a file opened O_APPEND (created
// 0600, never through a symlink), then fsync'd, and the file closed, before
// append() resolves: the write it came from is acknowledged only then. A
// short write (disk full) is taken back out (the file is truncated to its size
// before the append) and fails the append: a record is in the file whole or
// not at all. A file that does not end in a newline (a crash mid-write of an
// older collector) gets one first, so the new record never glues onto a
// partial line. After a rotation, or when the file was created, its folder is
// fsync'd too: a new name is durable only once its folder is.
// Opening per record (dead-lettering is rare) lets `replay` rename the file
// away at any time: the next record starts a new one.
//
// Bounded: a record that would take the file past `maxBytes` rotates it first
// (path → path.1 → … → path.keep); the file pushed past `keep` is removed, and
// the entries it held are counted (reading it in chunks: never the whole file
// at once) and reported (`dead_letter_discarded`), with the count unknown when
// it cannot be read.

import { constants } from 'node:fs'
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { syncDir } from '@logkit/core'
import { webhookSinkError } from './errors.js'

/** The key of a record's header line; a line starting with HEADER_PREFIX is a header. */
export const HEADER_KEY = 'logkit_dead_letter'
export const HEADER_PREFIX = `{"${HEADER_KEY}":`

export interface DeadLetterHeader {
  readonly time: string
  readonly sink: string
  readonly endpoint: string
  readonly reason: string
  readonly status?: number | undefined
  readonly error?: string | undefined
  readonly attempts: number
  readonly entries: number
  readonly excerpt?: string | undefined
}

export interface DeadLetterOptions {
  readonly path: string
  readonly maxBytes: number
  readonly keep: number
  /** Told how many entries a rotation removed with the oldest file (undefined: it could not be read). */
  readonly onDiscard: (entries: number | undefined, file: string) => void
  /** Opens the file (default fs.promises.open); tests hand in a handle whose writes come up short. */
  readonly openFile?: ((path: string, flags: number, mode: number) => Promise<FileHandle>) | undefined
  /** fsyncs a folder (default core's syncDir); tests count the calls. */
  readonly syncFolder?: ((dir: string) => Promise<void>) | undefined
}

// Read and write: the last byte is read to tell whether the file ends in a newline.
const FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW
const NEWLINE = Buffer.from('\n')
/** Bytes read at a time when counting the entries of a file. */
const CHUNK_BYTES = 64 * 1024

export class DeadLetterFile {
  readonly path: string
  readonly #options: DeadLetterOptions
  /** Records are appended one at a time, in order. */
  #lane: Promise<unknown> = Promise.resolve()

  constructor(options: DeadLetterOptions) {
    this.path = options.path
    this.#options = options
  }

  /** Appends a record (its header, then `lines`), durably; resolves after the fsync. */
  append(header: DeadLetterHeader, lines: Buffer): Promise<void> {
    const run = this.#lane.then(() => this.#append(header, lines))
    this.#lane = run.catch(() => {})
    return run
  }

  /** Resolves when every append so far has settled. */
  async settled(): Promise<void> {
    await this.#lane
  }

  async #append(header: DeadLetterHeader, lines: Buffer): Promise<void> {
    const head = Buffer.from(`${JSON.stringify({ [HEADER_KEY]: header })}\n`)
    const size = await stat(this.path).then(
      (s) => s.size,
      () => -1,
    )
    let rotated = false
    if (size > 0 && size + head.length + lines.length > this.#options.maxBytes) {
      await this.#rotate()
      rotated = true
    }
    const { handle, created } = await this.#open()
    try {
      const before = (await handle.stat()).size
      const parts = (await endsInNewline(handle, before)) ? [head, lines] : [NEWLINE, head, lines]
      const expected = parts.reduce((n, b) => n + b.length, 0)
      let written: number
      try {
        written = (await handle.writev(parts)).bytesWritten
      } catch (cause) {
        await handle.truncate(before).catch(() => {})
        throw cause
      }
      if (written < expected) {
        // Part of a record would read as a partial line: take it back out.
        await handle.truncate(before)
        throw webhookSinkError(
          'LOGKIT_ERR_WEBHOOK_DEAD_LETTER',
          `short write to the dead-letter file ${this.path} (${written} of ${expected} bytes: disk full?): the record was taken back out`,
          { details: { path: this.path, written, expected } },
        )
      }
      await handle.sync()
    } finally {
      await handle.close()
    }
    // A new name (a created file, or the renames of a rotation) is durable only once its folder is.
    if (created || rotated) await (this.#options.syncFolder ?? syncDir)(dirname(this.path))
  }

  /** Opens the file to append, creating it (0600) when it is not there; says whether it did. */
  async #open(): Promise<{ handle: FileHandle; created: boolean }> {
    const openFile = this.#options.openFile ?? open
    try {
      return { handle: await openFile(this.path, FLAGS, 0o600), created: false }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    try {
      return {
        handle: await openFile(this.path, FLAGS | constants.O_CREAT | constants.O_EXCL, 0o600),
        created: true,
      }
    } catch (err) {
      // Another writer created it meanwhile (the collector, while replay puts records back).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      return { handle: await openFile(this.path, FLAGS, 0o600), created: false }
    }
  }

  async #rotate(): Promise<void> {
    const { path, keep } = this.#options
    const oldest = `${path}.${keep}`
    const discarded = await countEntries(oldest)
    await unlink(oldest).catch(() => {})
    for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {})
    await rename(path, `${path}.1`)
    if (discarded !== 0) this.#options.onDiscard(discarded, oldest)
  }
}

/** True when the file of `size` bytes is empty or its last byte is a newline. */
async function endsInNewline(handle: FileHandle, size: number): Promise<boolean> {
  if (size === 0) return true
  const last = Buffer.alloc(1)
  const { bytesRead } = await handle.read(last, 0, 1, size - 1)
  return bytesRead === 1 && last[0] === 0x0a
}

const HEADER_BYTES = Buffer.from(HEADER_PREFIX)

/**
 * Entries in a dead-letter file (lines that are neither empty nor headers),
 * read CHUNK_BYTES at a time: a file of any size is counted in bounded memory.
 * 0 when it does not exist; undefined when it cannot be read.
 */
export async function countEntries(file: string): Promise<number | undefined> {
  let handle: FileHandle
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 0 : undefined
  }
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES)
    let entries = 0
    /** The current line's first bytes, up to HEADER_BYTES.length: enough to tell a header. */
    let start = Buffer.alloc(0)
    /** The current line's length so far. */
    let length = 0
    const endLine = () => {
      if (length > 0 && !start.equals(HEADER_BYTES)) entries++
      start = Buffer.alloc(0)
      length = 0
    }
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null)
      if (bytesRead === 0) break
      const bytes = chunk.subarray(0, bytesRead)
      let pos = 0
      while (pos < bytesRead) {
        const newline = bytes.indexOf(0x0a, pos)
        const end = newline === -1 ? bytesRead : newline
        if (start.length < HEADER_BYTES.length) {
          const take = Math.min(end, pos + HEADER_BYTES.length - start.length)
          start = Buffer.concat([start, bytes.subarray(pos, take)])
        }
        length += end - pos
        if (newline === -1) break
        endLine()
        pos = newline + 1
      }
    }
    endLine()
    return entries
  } catch {
    return undefined
  } finally {
    await handle.close()
  }
}
