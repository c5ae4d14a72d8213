// The last N entries written, kept as a JSONL file next to the log
// (`<path>.history.jsonl`) so that `logkit tail` can show recent history after
// a restart. Always pino-compatible JSON, whatever the log's own format. The
// ring holds entries and renders them only when the file is written (on
// flush, rotation and close), so a busy sink pays for N lines, not for every
// entry. Written to a fresh temporary file and renamed over the old one: a
// reader never sees half a file, and a symlink at either name is never
// followed.

import { closeSync, constants, openSync, readFileSync } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'
import { formatJson, type LogEntry } from '@logkit/core'

export class History {
  readonly path: string
  readonly #size: number
  readonly #mode: number
  readonly #ring: (LogEntry | string)[] = []
  #next = 0
  #dirty = false
  #writing: Promise<void> = Promise.resolve()

  constructor(path: string, size: number, mode: number) {
    this.path = path
    this.#size = size
    this.#mode = mode
  }

  /** Seeds the ring from the file a previous run left; unreadable or missing means empty. */
  load(): void {
    for (const line of readHistoryLines(this.path, this.#size)) this.#push(line)
  }

  /** One entry written (rendered as a JSON line only when the file is written). */
  add(entry: LogEntry): void {
    this.#push(entry)
    this.#dirty = true
  }

  /** The entries held, oldest first, as JSON lines. */
  lines(): string[] {
    const n = this.#ring.length
    const out: string[] = []
    for (let i = 0; i < n; i++) {
      const item = this.#ring[(this.#next + i) % n] as LogEntry | string
      out.push(typeof item === 'string' ? item : formatJson(item))
    }
    return out
  }

  /** Writes the file if anything was added since the last time; writes never overlap. */
  persist(): Promise<void> {
    const run = this.#writing.then(() => this.#write())
    this.#writing = run.catch(() => {})
    return run
  }

  async #write(): Promise<void> {
    if (!this.#dirty) return
    this.#dirty = false
    try {
      await this.#replace()
    } catch (err) {
      this.#dirty = true
      throw err
    }
  }

  async #replace(): Promise<void> {
    const tmp = `${this.path}.tmp`
    await unlink(tmp).catch(() => {})
    // O_EXCL: nothing at all may be at the temporary name, so no symlink is followed.
    const file = await open(
      tmp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      this.#mode,
    )
    try {
      const lines = this.lines()
      await file.writeFile(lines.length === 0 ? '' : `${lines.join('\n')}\n`)
    } finally {
      await file.close()
    }
    await rename(tmp, this.path)
  }

  #push(item: LogEntry | string): void {
    if (this.#ring.length < this.#size) {
      this.#ring.push(item)
      return
    }
    this.#ring[this.#next] = item
    this.#next = (this.#next + 1) % this.#size
  }
}

/** The last `size` lines of a history file (never through a symlink); [] when it is missing or unreadable. */
export function readHistoryLines(path: string, size: number): string[] {
  let text: string
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      text = readFileSync(fd, 'utf8')
    } finally {
      closeSync(fd)
    }
  } catch {
    return []
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .slice(-size)
}
