// The producer side of a transport: where a logger's encoded frames go.

export interface Transport {
  /** The transport's name as it appears in hello frames and status ('memory', 'shm', 'fifo'). */
  readonly name: string
  /**
   * Take one encoded frame. The bytes are only valid during the call: copy what
   * is kept. Returns false when the frame was dropped (full buffer); the logger
   * then counts it and announces the count in its next frame. Never throws for
   * a full or absent collector, and never blocks the event loop without bound.
   */
  write(frame: Uint8Array): boolean
  /**
   * Optional: the same as write(bytes.subarray(start, end)), without making
   * the view. The logger uses it when a transport has it.
   */
  writeRange?(bytes: Buffer, start: number, end: number): boolean
  /** Resolves when everything written so far has left the process (or is in shared memory). */
  flush(): Promise<void>
  /** Flush and release; writes after close return false. */
  close(): Promise<void>
  /**
   * Optional: the transport calls `listener` when the collector asks this
   * producer to log at another level (the shm control word). The logger made
   * on the transport follows it.
   */
  onLevel?(listener: (level: number) => void): void
}

/** What a transport can tell about itself, for status. */
export interface TransportStats {
  readonly written: number
  readonly dropped: number
}

/** Whose entries a transport carries: the identity of the logger that opens it. */
export interface TransportIdentity {
  readonly app: string
  readonly source: string
}

/**
 * A transport the logger opens with its own identity, so the app and source
 * are written once: `createLogger({ app, source, transport: shm() })`.
 */
export interface TransportFactory<T extends Transport = Transport> {
  /** The transport's name, as its transports give it. */
  readonly name: string
  open(identity: TransportIdentity): T
}

/** Whether `t` is a transport still to be opened (a TransportFactory), not an open Transport. */
export function isTransportFactory(t: Transport | TransportFactory): t is TransportFactory {
  return (
    typeof (t as Partial<Transport>).write !== 'function' &&
    typeof (t as Partial<TransportFactory>).open === 'function'
  )
}
