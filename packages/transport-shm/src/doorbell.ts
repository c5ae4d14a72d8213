// The collector's side of the doorbell (see doorbell-ringer.ts): a FIFO read
// through a socket. Apart from the producer's side so that a worker does not
// load node:net.

import { closeSync, constants, lstatSync, unlinkSync } from 'node:fs'
import { Socket } from 'node:net'
import { openPrivateFile } from '@logkit/core/producer'
import { native } from './native.js'

export { doorbellPath } from './doorbell-ringer.js'

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
