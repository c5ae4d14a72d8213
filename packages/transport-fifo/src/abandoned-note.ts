// What a producer leaves for the next collector when its close() gave up: the
// goodbye it could not deliver, as a small file beside its pipe.
//
//   web.1234.fifo.lost   {"version":1,"hello":{…,"startTime":"…"},"lastSeq":30,"dropped":0,"abandoned":30}
//
// The collector that finds it reads it as that goodbye: against what it (or
// the checkpoint of the collector before it) delivered of that producer run,
// the entries up to `lastSeq` that never arrived are a seq gap and the drops
// not yet announced are drops, each counted once; then the note is removed.
// `abandoned` is the producer's own count (entries still in its buffer), for
// the message; the collector's count is the exact one.
//
// Both this note and the checkpoint hold a hello; boundedHello() keeps either
// within one page, so a single write of it is never torn by a crash.

import { type Drops, type Hello, readPrivateFile, writeFileAtomic } from '@logkit/core/producer'

export interface AbandonedNote {
  /** The producer run that gave up. */
  readonly hello: Hello
  /** The seq of the last entry it logged. */
  readonly lastSeq: number
  /** Its drops, total and by reason, as its goodbye would have said. */
  readonly drops: Drops
  /** Entries still in its buffer when it gave up (its own count). */
  readonly abandoned: number
}

const VERSION = 1

/** A checkpoint or note must fit one page: a single write of it is then all or nothing. */
export const PAGE_BYTES = 4096
const MAX_TEXT = 256
const MAX_CAPABILITIES = 8

const bound = (text: string) => (text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text)

/**
 * A hello small enough for one page whatever the producer said: source and
 * hostname cut to 256 characters (1 KiB of UTF-8 at most), a few
 * capabilities. The run (pid, start time) is never cut.
 */
export function boundedHello(hello: Hello): Hello {
  return {
    app: bound(hello.app),
    source: bound(hello.source),
    pid: hello.pid,
    hostname: bound(hello.hostname),
    protocol: hello.protocol,
    transport: bound(hello.transport),
    capabilities: hello.capabilities.slice(0, MAX_CAPABILITIES).map((c) => c.slice(0, 32)),
    startTime: hello.startTime,
  }
}

export function helloJson(hello: Hello): Record<string, unknown> {
  return { ...boundedHello(hello), startTime: String(hello.startTime) }
}

/** The hello of a checkpoint or note, or undefined when it is not one. */
export function parseHello(h: unknown): Hello | undefined {
  if (h === null || typeof h !== 'object') return undefined
  const o = h as Record<string, unknown>
  if (typeof o['pid'] !== 'number' || typeof o['startTime'] !== 'string') return undefined
  return {
    app: String(o['app'] ?? ''),
    source: String(o['source'] ?? ''),
    pid: o['pid'],
    hostname: String(o['hostname'] ?? ''),
    protocol: Number(o['protocol'] ?? 0),
    transport: String(o['transport'] ?? ''),
    capabilities: Array.isArray(o['capabilities']) ? o['capabilities'].map(String) : [],
    startTime: BigInt(o['startTime']),
  }
}

export function noteFileName(pipeName: string): string {
  return `${pipeName}.lost`
}

/** The pipe a note belongs to, or undefined when `name` is not a note. */
export function pipeOfNote(name: string): string | undefined {
  return name.endsWith('.fifo.lost') ? name.slice(0, -'.lost'.length) : undefined
}

/** Writes the note (temp file and rename: the collector sees all of it or none). */
export function writeNote(path: string, note: AbandonedNote): void {
  writeFileAtomic(
    path,
    JSON.stringify({
      version: VERSION,
      hello: helloJson(note.hello),
      lastSeq: note.lastSeq,
      ...dropsJson(note.drops),
      abandoned: note.abandoned,
    }),
  )
}

/** The JSON object in a private file (checkpoint or note), or undefined when there is none or it is no JSON object. */
export function readJsonFile(path: string): Record<string, unknown> | undefined {
  try {
    const raw: unknown = JSON.parse(readPrivateFile(path))
    return raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export function readNote(path: string): AbandonedNote | undefined {
  const raw = readJsonFile(path)
  if (raw === undefined) return undefined
  try {
    const hello = parseHello(raw['hello'])
    if (raw['version'] !== VERSION || hello === undefined || typeof raw['lastSeq'] !== 'number')
      return undefined
    return {
      hello,
      lastSeq: raw['lastSeq'],
      drops: parseDrops(raw),
      abandoned: typeof raw['abandoned'] === 'number' ? raw['abandoned'] : 0,
    }
  } catch {
    return undefined
  }
}

/** A count of drops as the checkpoint and the note write it (their top-level keys). */
export function dropsJson(drops: Drops): Record<keyof Drops, number> {
  return {
    dropped: drops.dropped,
    droppedTooLarge: drops.droppedTooLarge,
    droppedUnserializable: drops.droppedUnserializable,
  }
}

/** The count dropsJson wrote into `raw` (an older file's missing reasons: 0). */
export function parseDrops(raw: Record<string, unknown>): Drops {
  const count = (key: keyof Drops) => {
    const value = raw[key]
    return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0
  }
  return {
    dropped: count('dropped'),
    droppedTooLarge: count('droppedTooLarge'),
    droppedUnserializable: count('droppedUnserializable'),
  }
}
