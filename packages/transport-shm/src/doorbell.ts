// The doorbell: a FIFO in the app's runtime directory. A sleeping collector
// waits for a byte on it; a producer writes one byte only on the edge where it
// finds the collector asleep (and clears the flag), so a busy collector pays
// nothing for wake-ups and an idle one burns no CPU. (Atomics.wait/notify
// cannot do this: V8 keeps its waiter lists per process.)

import { closeSync, constants, lstatSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { Socket } from 'node:net'
import { join } from 'node:path'
import { openPrivateFile } from '@logkit/core/producer'
import { DOORBELL_NAME } from './layout.js'
import { native } from './native.js'

export function doorbellPath(appDir: string): string {
  return join(appDir, DOORBELL_NAME)
}

const ONE_BYTE = Buffer.from([1])

/** The producer's side: rings without ever blocking, and reopens after a collector restart. */
export class DoorbellRinger {
  #fd: number | undefined
  #lastTry = 0

  constructor(readonly path: string) {}

  /** Rings; false when no collector could be reached (none runs, or it just went away). */
  ring(): boolean {
    if (this.#fd === undefined) {
      // No collector yet: try again at most every 100 ms, never per log call.
      const now = Date.now()
      if (now - this.#lastTry < 100) return false
      this.#lastTry = now
      try {
        // Non-blocking: ENXIO when nobody reads (no collector), ENOENT before the first one.
        this.#fd = openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW)
      } catch {
        return false
      }
    }
    try {
      writeSync(this.#fd, ONE_BYTE)
      return true
    } catch (err) {
      // EAGAIN: the pipe is full of wake-ups already. EPIPE: that collector is gone; reopen next time.
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return true
      this.close()
      return false
    }
  }

  close(): void {
    if (this.#fd === undefined) return
    try {
      closeSync(this.#fd)
    } catch {}
    this.#fd = undefined
  }
}

/** The collector's side: a FIFO it creates (or reuses), read through a socket so no thread is held. */
export class DoorbellListener {
  readonly #socket: Socket
  readonly #keepOpen: number

  constructor(
    readonly path: string,
    onRing: () => void,
  ) {
    let reuse = false
    try {
      const st = lstatSync(path)
      reuse = st.isFIFO() && st.uid === (process.getuid?.() ?? 0)
      if (!reuse) unlinkSync(path)
    } catch {}
    if (!reuse) native().mkfifo(path, 0o600)
    const readFd = openPrivateFile(path, constants.O_RDONLY | constants.O_NONBLOCK)
    // Our own writer keeps the FIFO from reporting end-of-file when producers come and go.
    this.#keepOpen = openPrivateFile(path, constants.O_WRONLY | constants.O_NONBLOCK)
    this.#socket = new Socket({ fd: readFd, readable: true, writable: false })
    this.#socket.on('data', () => onRing())
    this.#socket.on('error', () => {})
  }

  close(): void {
    this.#socket.destroy()
    try {
      closeSync(this.#keepOpen)
    } catch {}
    try {
      unlinkSync(this.path)
    } catch {}
  }
}
