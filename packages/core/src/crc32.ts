// CRC-32 (the zlib polynomial) over a buffer range. Small ranges — a typical
// frame is 100–300 bytes — are computed here, slicing by 8, which beats the
// fixed cost of a call into zlib; large ones go to zlib. Both give the same
// value (tested). zlib is loaded at the first large range, not at import:
// loading it costs a producer's start-up more than all its small frames.

import { createRequire } from 'node:module'

const TABLE = new Int32Array(256 * 8)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  TABLE[n] = c
}
for (let n = 0; n < 256; n++) {
  let c = TABLE[n] as number
  for (let k = 1; k < 8; k++) {
    c = (TABLE[c & 255] as number) ^ (c >>> 8)
    TABLE[k * 256 + n] = c
  }
}

/** Above this many bytes zlib is faster than the table. */
const NATIVE_FROM = 512

let zlibCrc32: ((data: Uint8Array) => number) | undefined

function nativeCrc32(bytes: Uint8Array): number {
  zlibCrc32 ??= (createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib')).crc32
  return zlibCrc32(bytes)
}

export function crc32(buf: Buffer, start = 0, end = buf.length): number {
  if (end - start >= NATIVE_FROM) return nativeCrc32(buf.subarray(start, end))
  const t = TABLE
  let c = -1
  let i = start
  const end8 = start + ((end - start) & ~7)
  while (i < end8) {
    const a =
      c ^
      ((buf[i] as number) |
        ((buf[i + 1] as number) << 8) |
        ((buf[i + 2] as number) << 16) |
        ((buf[i + 3] as number) << 24))
    c =
      (t[1792 + (a & 255)] as number) ^
      (t[1536 + ((a >>> 8) & 255)] as number) ^
      (t[1280 + ((a >>> 16) & 255)] as number) ^
      (t[1024 + (a >>> 24)] as number) ^
      (t[768 + (buf[i + 4] as number)] as number) ^
      (t[512 + (buf[i + 5] as number)] as number) ^
      (t[256 + (buf[i + 6] as number)] as number) ^
      (t[buf[i + 7] as number] as number)
    i += 8
  }
  while (i < end) c = (t[(c ^ (buf[i++] as number)) & 255] as number) ^ (c >>> 8)
  return (c ^ -1) >>> 0
}
