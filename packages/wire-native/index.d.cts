/** The addon's calls; @logkit/core's wire/native.ts documents their contracts. */
declare const addon: {
  index(
    buf: Uint8Array,
    start: number,
    end: number,
    checkCrc: boolean,
    maxFrameSize: number,
    entries: ArrayBuffer,
    entryCapacity: number,
    frames: ArrayBuffer,
    frameCapacity: number,
    state: Float64Array,
  ): number
  render(
    entries: ArrayBuffer,
    entryCapacity: number,
    count: number,
    buf: Uint8Array,
    out: Uint8Array,
    from: number,
    to: number,
    selection: Int32Array | undefined,
    identityKey: Uint8Array,
    identity: Uint8Array,
    state: Float64Array,
  ): number
  findField(
    entries: ArrayBuffer,
    entryCapacity: number,
    count: number,
    buf: Uint8Array,
    rows: Int32Array,
    n: number,
    keys: readonly Uint8Array[],
    out: Int32Array,
  ): void
  crc32(buf: Uint8Array, start: number, end: number): number
  configure(keys: readonly Uint8Array[]): void
}
export = addon
