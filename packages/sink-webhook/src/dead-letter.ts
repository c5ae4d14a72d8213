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
// append() resolves: the write it came from is acknowledged only then.
// Opening per record (dead-lettering is rare) lets `replay` rename the file
// away at any time: the next record starts a new one.
//
// Bounded: a record that would take the file past `maxBytes` rotates it first
// (path → path.1 → … → path.keep); the file pushed past `keep` is removed, and
// the entries it held are counted and reported (`dead_letter_discarded`).

import { constants } from 'node:fs'
import { open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { syncDir } from '@logkit/core'

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
  /** Told how many entries a rotation removed with the oldest file. */
  readonly onDiscard: (entries: number, file: string) => void
}

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW

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
    if (size > 0 && size + head.length + lines.length > this.#options.maxBytes) await this.#rotate()
    const handle = await open(this.path, FLAGS, 0o600)
    try {
      await handle.writev([head, lines])
      await handle.sync()
    } finally {
      await handle.close()
    }
    // A new file's name is durable only once its folder is.
    if (size <= 0) await syncDir(dirname(this.path))
  }

  async #rotate(): Promise<void> {
    const { path, keep } = this.#options
    const oldest = `${path}.${keep}`
    const discarded = await countEntries(oldest)
    await unlink(oldest).catch(() => {})
    for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {})
    await rename(path, `${path}.1`)
    if (discarded > 0) this.#options.onDiscard(discarded, oldest)
  }
}

/** Entries in a dead-letter file (lines that are not headers); 0 when it does not exist. */
export async function countEntries(file: string): Promise<number> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    return 0
  }
  let n = 0
  for (const line of text.split('\n')) if (line !== '' && !line.startsWith(HEADER_PREFIX)) n++
  return n
}
