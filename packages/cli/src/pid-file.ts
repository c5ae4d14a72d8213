// `logkit compose --pid-file FILE`: the collector's own pid, for process
// managers and `kill`. Under npx (or any wrapper that does not pass signals
// on) the wrapper's pid reaches nothing; this file names the process that
// drains and flushes on SIGTERM.

import { closeSync, constants, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { resolve } from 'node:path'
import { isLogkitError, openPrivateFile } from '@logkit/core'
import { cliError } from './errors.js'

/** Writes this process's pid to `path` (created 0600, never through a symlink); returns the absolute path. */
export function writePidFile(path: string): string {
  const file = resolve(path)
  let fd: number
  try {
    fd = openPrivateFile(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC)
  } catch (err) {
    const why = isLogkitError(err)
      ? err.message
      : `${(err as NodeJS.ErrnoException).code ?? 'error'}: its folder must exist and be writable`
    throw cliError('LOGKIT_ERR_CLI_PID_FILE', `cannot write the pid file ${file} (${why})`)
  }
  try {
    writeSync(fd, `${process.pid}\n`)
  } finally {
    closeSync(fd)
  }
  return file
}

/** Removes the pid file, unless it now names another process (a collector started after this one). */
export function removePidFile(file: string): void {
  try {
    if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file)
  } catch {
    // Gone already: nothing to do.
  }
}
