// Opening the log file without trusting what is at its path: no symlink is
// followed (O_NOFOLLOW), only a regular file owned by this user is accepted,
// and a new file is created with the sink's mode (0600 by default). Also the
// repair of a line torn by a crash in the middle of a write, which only ever
// cuts bytes the sink wrote itself (ownership.ts says which those are).

import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileSinkError } from './errors.js'

export interface OpenedFile {
  readonly fd: number
  readonly size: number
  readonly mtimeMs: number
  readonly dev: number
  readonly ino: number
  /** 0 where the file system keeps no birth time. */
  readonly birthtimeMs: number
}

// Read as well as append: the torn-tail repair reads the file's end.
const APPEND = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW

function uid(): number | undefined {
  return process.getuid?.()
}

function unsafe(path: string, why: string): never {
  throw fileSinkError(
    'LOGKIT_ERR_FILE_UNSAFE',
    `log file ${path} ${why}: the file sink writes only to a regular file of its own user and never follows a symlink; remove it or choose another path`,
    { details: { path } },
  )
}

/**
 * Checks an fd just opened at `path` is a regular file of this user; closes it
 * and throws LOGKIT_ERR_FILE_UNSAFE if not.
 */
export function checkOpened(fd: number, path: string): OpenedFile {
  const st = fstatSync(fd)
  const me = uid()
  let why: string | undefined
  if (!st.isFile()) why = 'is not a regular file'
  else if (me !== undefined && st.uid !== me) why = `is owned by uid ${st.uid}, not ${me}`
  if (why !== undefined) {
    closeSync(fd)
    unsafe(path, why)
  }
  return { fd, size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino, birthtimeMs: st.birthtimeMs }
}

/** Opens `path` for appending (created with `mode` if missing), refusing anything but our own regular file. */
export function openLogFile(path: string, mode: number, flags = APPEND): OpenedFile {
  let fd: number
  try {
    fd = openSync(path, flags, mode)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ELOOP') unsafe(path, 'is a symlink')
    if (code === 'EISDIR') unsafe(path, 'is a directory')
    if (code === 'ENOENT') {
      throw fileSinkError(
        'LOGKIT_ERR_FILE_DIR_MISSING',
        `the directory of log file ${path} does not exist: create ${dirname(path)}, or set mkdir: true`,
        { cause: err, details: { path, dir: dirname(path) } },
      )
    }
    throw fileSinkError(
      'LOGKIT_ERR_FILE_OPEN',
      `cannot open log file ${path} (${code ?? String(err)}): check the directory's permissions and that the file system is writable`,
      { cause: err, details: { path, errno: code } },
    )
  }
  return checkOpened(fd, path)
}

const TAIL_CHUNK = 64 * 1024

/** True when the file is empty or its last byte is a newline. */
export function endsInNewline(fd: number, size: number): boolean {
  if (size === 0) return true
  const last = Buffer.alloc(1)
  return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a
}

/**
 * The sink's own bytes are those from `floor` on. When they end in a line a
 * crash cut short, truncates the file back to the end of its last whole line
 * at or past `floor` (to `floor` itself when that region holds no newline)
 * and returns the bytes removed: they were never acknowledged, so the source
 * still holds them. Nothing before `floor` is read or cut.
 */
export function repairTornTail(fd: number, size: number, floor: number): number {
  if (size <= floor || endsInNewline(fd, size)) return 0
  const buf = Buffer.allocUnsafe(Math.min(TAIL_CHUNK, size - floor))
  let cut = floor
  let end = size
  while (end > floor) {
    const start = Math.max(floor, end - buf.length)
    const n = readSync(fd, buf, 0, end - start, start)
    const nl = buf.subarray(0, n).lastIndexOf(0x0a)
    if (nl !== -1) {
      cut = start + nl + 1
      break
    }
    end = start
  }
  ftruncateSync(fd, cut)
  return size - cut
}
