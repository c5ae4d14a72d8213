// The doorbell: a FIFO in the app's runtime directory. A sleeping collector
// waits for a byte on it; a producer writes one byte only on the edge where it
// finds the collector asleep (and clears the flag), so a busy collector pays
// nothing for wake-ups and an idle one burns no CPU. (Atomics.wait/notify
// cannot do this: V8 keeps its waiter lists per process.) The byte says why:
// a new ring announces itself with RING_ANNOUNCE, so the collector lists its
// directory only then, not at every wake-up.

import { constants, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { DOORBELL_NAME } from './layout.js'
import { closeQuietly } from './ring.js'

export function doorbellPath(appDir: string): string {
  return join(appDir, DOORBELL_NAME)
}

/** The byte of a wake-up: data in a ring the collector knows, or a ring closing. */
export const RING_WAKE = 1
/** The byte of a new ring: the collector looks for it in the directory. */
export const RING_ANNOUNCE = 2
const WAKE_BYTE = Buffer.from([RING_WAKE])
const ANNOUNCE_BYTE = Buffer.from([RING_ANNOUNCE])

/** The producer's side: rings without ever blocking, and reopens after a collector restart. */
export class DoorbellRinger {
  #fd: number | undefined
  #lastTry = 0

  constructor(readonly path: string) {}

  /** A new ring's announcement not yet written: the next rings carry it until one is. */
  #announcing = false

  /**
   * Rings; false when no collector could be reached (none runs, or it just
   * went away). `announce`: for a new ring. An announcement that could not be
   * written (no collector yet, a full pipe) goes with the next ring instead of
   * a plain wake-up, so a collector that misses it lists its directory at the
   * next one, not a reaper's interval later.
   */
  ring(announce = false): boolean {
    if (announce) this.#announcing = true
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
      writeSync(this.#fd, this.#announcing ? ANNOUNCE_BYTE : WAKE_BYTE)
      this.#announcing = false
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
    closeQuietly(this.#fd)
    this.#fd = undefined
  }
}
