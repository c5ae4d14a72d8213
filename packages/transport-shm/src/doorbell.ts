// The collector's side of the doorbell (see doorbell-ringer.ts): a FIFO read
// through a socket. Apart from the producer's side so that a worker does not
// load node:net.

import { constants, lstatSync, unlinkSync } from 'node:fs'
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net'
import { openPrivateFile } from '@logkit/core/producer'
import { RING_ANNOUNCE } from './doorbell-ringer.js'
import { native } from './native.js'
import { closeQuietly } from './ring.js'

export { doorbellPath } from './doorbell-ringer.js'

/** The collector's side: a FIFO it creates (or reuses), read through a socket so no thread is held. */
export class DoorbellListener {
  readonly #socket: Socket
  readonly #keepOpen: number

  /** `onRing(announced)`: `announced` when a new ring was among the wake-ups read. */
  constructor(
    readonly path: string,
    onRing: (announced: boolean) => void,
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
    // Wake-ups are read into one small buffer (onread): nothing allocated per ring.
    const options: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd: readFd,
      readable: true,
      writable: false,
      onread: {
        buffer: Buffer.alloc(256),
        callback: (n, buf) => {
          onRing(buf.subarray(0, n).includes(RING_ANNOUNCE))
          return true
        },
      },
    }
    // The constructor takes onread as connect() does; the type declarations list it for connect() only.
    this.#socket = new Socket(options)
    this.#socket.on('error', () => {})
  }

  close(): void {
    this.#socket.destroy()
    closeQuietly(this.#keepOpen)
    try {
      unlinkSync(this.path)
    } catch {}
  }
}
