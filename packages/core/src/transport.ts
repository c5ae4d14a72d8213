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
