// The collector's note, beside each pipe, of the last seq it delivered from
// that producer run (acknowledged by every sink). A FIFO keeps nothing once
// its reader is gone, so this is how the next collector — after a restart or
// a crash — tells "already delivered" from "lost": it resumes the producer's
// sequence at the checkpoint, drops what the producer replays below it as
// duplicates, and reports anything missing above it as a seq gap, exactly.
//
//   web.1234.fifo.ack   {"version":1,"hello":{…,"startTime":"…"},"lastSeq":41873,"dropped":12,
//                        "droppedTooLarge":1,"droppedUnserializable":0}
//
// 0600, never through a symlink. A collector keeps each checkpoint file open
// and rewrites it in place, one positioned write per update (see
// CheckpointFile): a temp file and a rename per acknowledgement cost the
// collector a third of its time.

import { closeSync, constants, fstatSync, unlinkSync, writeSync } from 'node:fs'
import { type Drops, type Hello, openPrivateFile, writeFileAtomic } from '@logkit/core'
import { dropsJson, helloJson, parseDrops, parseHello, readJsonFile } from './abandoned-note.js'

export interface Checkpoint {
  /** The producer run the seq belongs to. */
  readonly hello: Hello
  readonly lastSeq: number
  /** Drops the producer announced up to there, total and by reason: reported already, never again. */
  readonly drops: Drops
}

const VERSION = 1

/** A producer run's identity: its pid and start time. */
export function runOf(hello: Pick<Hello, 'pid' | 'startTime'>): string {
  return `${hello.pid}:${hello.startTime}`
}

function checkpointText(checkpoint: Checkpoint): string {
  return JSON.stringify({
    version: VERSION,
    // Bounded: the text always fits one page, so its single write is never torn.
    hello: helloJson(checkpoint.hello),
    lastSeq: checkpoint.lastSeq,
    ...dropsJson(checkpoint.drops),
  })
}

/** Writes a checkpoint file in one go (temp file and rename). */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeFileAtomic(path, checkpointText(checkpoint))
}

/**
 * One pipe's checkpoint file, opened once and rewritten in place: each update
 * is a single write at offset 0 of less than a page (the hello in it is
 * bounded: boundedHello), which a crash of the
 * collector never leaves half done. A shorter text than what the file holds
 * is padded with spaces, which JSON.parse ignores.
 */
export class CheckpointFile {
  #fd: number | undefined
  #size = 0

  constructor(readonly path: string) {}

  write(checkpoint: Checkpoint): void {
    if (this.#fd === undefined) {
      this.#fd = openPrivateFile(this.path, constants.O_WRONLY | constants.O_CREAT)
      this.#size = fstatSync(this.#fd).size
    }
    const text = Buffer.from(checkpointText(checkpoint))
    const out = text.length >= this.#size ? text : Buffer.alloc(this.#size, 0x20)
    if (out !== text) text.copy(out)
    writeSync(this.#fd, out, 0, out.length, 0)
    this.#size = out.length
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }
}

/** The checkpoint at `path`, or undefined when there is none or it cannot be read as one. */
export function readCheckpoint(path: string): Checkpoint | undefined {
  const raw = readJsonFile(path)
  if (raw === undefined) return undefined
  try {
    const hello = parseHello(raw['hello'])
    const { version, lastSeq } = raw
    if (version !== VERSION || hello === undefined || typeof lastSeq !== 'number') return undefined
    return { hello, lastSeq, drops: parseDrops(raw) }
  } catch {
    return undefined
  }
}

export function removeFile(path: string): void {
  try {
    unlinkSync(path)
  } catch {}
}
