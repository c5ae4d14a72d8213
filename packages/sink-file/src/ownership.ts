// Which bytes of the live log file are this sink's own. A small private record
// beside the log (`.<basename>.logkit`, 0600) names the file (dev, ino, birth
// time) and the offset from which the sink has written to it: 0 for a file it
// created, the file's size when it adopted one that was already there. Only
// bytes at or past that offset may ever be cut (a line torn by a crash);
// anything before it belongs to whoever wrote it and is never changed.
//
//   .app.log.logkit   {"dev":2049,"ino":1835012,"birth":1732262400123.4,"offset":0}
//
// The record is written only when the sink opens a file it has no record of
// (start, rotation, reopen after an external rename) or when a copytruncate
// moves the file's start: never per write. It is written to a temporary file
// (O_EXCL, so nothing there is followed) that is fsync'd and renamed over the
// record, so a reader sees the old record or the new one, never half of one.
// Its name never matches the rotated-file pattern (naming.ts), so retention
// cannot take it for a rotated file or remove it.

import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { OpenedFile } from './safe-open.js'

/** The identity of the log file and where the sink's own bytes start. */
export interface OwnershipRecord {
  readonly dev: number
  readonly ino: number
  /** Birth time in ms (0 where the file system does not keep one): tells a recycled inode apart. */
  readonly birth: number
  readonly offset: number
}

/** A record is a few dozen bytes; anything longer at that name is not one. */
const MAX_RECORD_BYTES = 4096

export function recordPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.logkit`)
}

/** The record at `recordPath`, or undefined when there is none we can trust (missing, a symlink, another user's, not ours). */
export function readRecord(recordPath: string): OwnershipRecord | undefined {
  let fd: number
  try {
    fd = openSync(recordPath, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch {
    return undefined
  }
  try {
    const st = fstatSync(fd)
    const me = process.getuid?.()
    if (!st.isFile() || (me !== undefined && st.uid !== me) || st.size > MAX_RECORD_BYTES) return undefined
    const buf = Buffer.alloc(st.size)
    const n = readSync(fd, buf, 0, buf.length, 0)
    const value = JSON.parse(buf.subarray(0, n).toString('utf8')) as Record<string, unknown>
    const { dev, ino, birth, offset } = value
    if (![dev, ino, birth, offset].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      return undefined
    }
    return { dev, ino, birth, offset } as OwnershipRecord
  } catch {
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** Replaces the record atomically (temporary file, fsync, rename); throws what the file system says. */
export function writeRecord(recordPath: string, record: OwnershipRecord): void {
  const tmp = `${recordPath}.tmp`
  try {
    unlinkSync(tmp)
  } catch {
    // Nothing left there by an earlier run.
  }
  const fd = openSync(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  )
  try {
    writeSync(fd, JSON.stringify(record))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, recordPath)
}

/**
 * Whether `record` describes the file just opened: same device, inode and
 * birth time, and its offset still lies at a line boundary inside the file
 * (a copytruncate or a stranger's rewrite moves it).
 */
export function recordMatches(
  record: OwnershipRecord | undefined,
  file: OpenedFile,
): record is OwnershipRecord {
  if (record === undefined) return false
  if (record.dev !== file.dev || record.ino !== file.ino || record.birth !== file.birthtimeMs) return false
  if (record.offset > file.size) return false
  if (record.offset === 0) return true
  const byte = Buffer.alloc(1)
  return readSync(file.fd, byte, 0, 1, record.offset - 1) === 1 && byte[0] === 0x0a
}

/** The record of a file the sink writes from `offset` on. */
export function recordOf(file: OpenedFile, offset: number): OwnershipRecord {
  return { dev: file.dev, ino: file.ino, birth: file.birthtimeMs, offset }
}
