// Creating a named pipe. Node has no mkfifo(3), so the coreutils command does
// it, asynchronously (the event loop never waits for the spawn). `-m 600`
// sets the mode exactly, whatever the umask; mkfifo(3) fails on any existing
// path, a symlink included, so it never creates anything through one. What
// sits at the path is checked again when it is opened (openPrivateFile, fstat).
// node:child_process is loaded with the first pipe, once a collector is
// there: a worker's import does not pay for it.

import { lstat } from 'node:fs'
import { fifoError } from './errors.js'

/** Creates a FIFO at `path` (0600). Resolves when something exists there, also when another process made it first. */
export async function mkfifo(path: string, command = 'mkfifo'): Promise<void> {
  const { execFile } = await import('node:child_process')
  return new Promise((resolve, reject) => {
    execFile(command, ['-m', '600', '--', path], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err === null) {
        resolve()
        return
      }
      lstat(path, (statErr) => {
        if (statErr === null) {
          resolve()
          return
        }
        reject(
          fifoError(
            'LOGKIT_ERR_FIFO_MKFIFO_FAILED',
            `could not create the pipe ${path} with \`${command}\`: ${String(stderr).trim() || err.message}; install coreutils (mkfifo) or check that the runtime directory is writable`,
            { cause: err, details: { path, command } },
          ),
        )
      })
    })
  })
}
