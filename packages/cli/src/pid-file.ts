// `logkit compose --pid-file FILE`: the collector's own pid, for process
// managers and `kill`. Under npx (or any wrapper that does not pass signals
// on) the wrapper's pid reaches nothing; this file names the process that
// drains and flushes on SIGTERM.
//
// The file is created exclusively: a file that names a live process (another
// collector's) is never overwritten or removed; one left by a process that is
// gone is replaced. It is removed when this process exits, however it exits.

import { closeSync, constants, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { resolve } from 'node:path'
import { isLogkitError, openPrivateFile } from '@logkit/core'
import { cliError } from './errors.js'

/** Writes this process's pid to `path` (created 0600, never through a symlink); returns the absolute path. */
export function writePidFile(path: string): string {
  const file = resolve(path)
  for (let attempt = 0; ; attempt++) {
    let fd: number
    try {
      fd = openPrivateFile(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt === 0) {
        const other = pidIn(file)
        if (other !== undefined && other !== process.pid && alive(other)) {
          throw cliError(
            'LOGKIT_ERR_CLI_PID_FILE',
            `the pid file ${file} names a running process (pid ${other}): another collector's? give this one its own pid file`,
          )
        }
        // Left by a process that is gone: replaced.
        unlinkSync(file)
        continue
      }
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
    // Also when the process ends by process.exit (a second signal), not only through the caller's finally.
    process.once('exit', () => removePidFile(file))
    return file
  }
}

/** Removes the pid file, unless it now names another process (a collector started after this one). */
export function removePidFile(file: string): void {
  if (pidIn(file) === process.pid) {
    try {
      unlinkSync(file)
    } catch {
      // Gone already: nothing to do.
    }
  }
}

function pidIn(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
