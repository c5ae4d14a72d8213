// The collector's note, beside each pipe, of the last seq it delivered from
// that producer run (acknowledged by every sink). A FIFO keeps nothing once
// its reader is gone, so this is how the next collector — after a restart or
// a crash — tells "already delivered" from "lost": it resumes the producer's
// sequence at the checkpoint, drops what the producer replays below it as
// duplicates, and reports anything missing above it as a seq gap, exactly.
//
//   web.1234.fifo.ack   {"version":1,"hello":{…,"startTime":"…"},"lastSeq":41873,"dropped":12}
//
// Written atomically (temp file and rename), 0600, never through a symlink.

import { unlinkSync } from 'node:fs'
import { type Hello, readPrivateFile, writeFileAtomic } from '@logkit/core'

export interface Checkpoint {
  /** The producer run the seq belongs to. */
  readonly hello: Hello
  readonly lastSeq: number
  /** Drops the producer announced up to there: reported already, never again. */
  readonly dropped: number
}

const VERSION = 1

/** A producer run's identity: its pid and start time. */
export function runOf(hello: Pick<Hello, 'pid' | 'startTime'>): string {
  return `${hello.pid}:${hello.startTime}`
}

export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  const text = JSON.stringify({
    version: VERSION,
    hello: { ...checkpoint.hello, startTime: String(checkpoint.hello.startTime) },
    lastSeq: checkpoint.lastSeq,
    dropped: checkpoint.dropped,
  })
  writeFileAtomic(path, text)
}

/** The checkpoint at `path`, or undefined when there is none or it cannot be read as one. */
export function readCheckpoint(path: string): Checkpoint | undefined {
  let text: string
  try {
    text = readPrivateFile(path)
  } catch {
    return undefined
  }
  try {
    const raw = JSON.parse(text) as {
      version?: unknown
      hello?: Record<string, unknown>
      lastSeq?: unknown
      dropped?: unknown
    }
    const h = raw.hello
    if (raw.version !== VERSION || h === undefined || typeof raw.lastSeq !== 'number') return undefined
    if (typeof h['pid'] !== 'number' || typeof h['startTime'] !== 'string') return undefined
    const hello: Hello = {
      app: String(h['app'] ?? ''),
      source: String(h['source'] ?? ''),
      pid: h['pid'],
      hostname: String(h['hostname'] ?? ''),
      protocol: Number(h['protocol'] ?? 0),
      transport: String(h['transport'] ?? ''),
      capabilities: Array.isArray(h['capabilities']) ? h['capabilities'].map(String) : [],
      startTime: BigInt(h['startTime']),
    }
    return { hello, lastSeq: raw.lastSeq, dropped: typeof raw.dropped === 'number' ? raw.dropped : 0 }
  } catch {
    return undefined
  }
}

export function removeFile(path: string): void {
  try {
    unlinkSync(path)
  } catch {}
}
