// The check a frame header carries on its payload: CRC-32 (flags 0), or the
// frame hash (flag FRAME_FLAG_HASH), which the logger's entry writer uses. A
// producer computes its check on every log call: CRC-32 (slicing by 8 in
// JavaScript) cost it about a quarter of a call, ~200 ns for a 200-byte
// frame; the hash ~45 ns. Both catch what the collector needs caught
// (docs/model.md): a byte changed in a published frame, a payload cut or
// shifted, a stray 'LK' in garbage (a random match: 1 in 2^32).
//
// The frame hash: the payload as little-endian 32-bit words (the last one
// zero-padded), the even-numbered ones into one lane and the odd-numbered
// into another, each step h = (h ^ w) × an odd constant, modulo 2^32:
//
//   h1 = n ^ 0x811c9dc5    h1 = (h1 ^ w_2k) × 0x9e3779b1
//   h2 = 0x2545f491        h2 = (h2 ^ w_2k+1) × 0x85ebca77
//   check = h1 ^ (h2 × 0xc2b2ae3d)
//
// Each step is one-to-one in h and in w, so a change to any one word (every
// change to one byte) always changes its lane's result, and the check: it is
// caught, always. Two lanes let the two multiplications run side by side.
// Other damage (several words, words moved) is caught unless it happens to
// cancel, 1 in 2^32. It is no defence against a hostile writer, which could
// as well write a valid CRC: ring files are the user's own (0600).

import { crc32 } from './crc32.js'

/** Flags byte (header offset 3): the check is the frame hash, not CRC-32. */
export const FRAME_FLAG_HASH = 0x01

/** The frame hash of view's bytes [start, end). */
export function frameHash(view: DataView, start: number, end: number): number {
  let h1 = (end - start) ^ 0x811c9dc5
  let h2 = 0x2545f491
  let i = start
  const pairs = end - 7
  while (i < pairs) {
    h1 = Math.imul(h1 ^ view.getUint32(i, true), 0x9e3779b1)
    h2 = Math.imul(h2 ^ view.getUint32(i + 4, true), 0x85ebca77)
    i += 8
  }
  // At most one whole word left (lane 1), then the zero-padded rest (the next lane).
  let odd = false
  if (i + 4 <= end) {
    h1 = Math.imul(h1 ^ view.getUint32(i, true), 0x9e3779b1)
    i += 4
    odd = true
  }
  if (i < end) {
    let w = 0
    for (let k = 0; i < end; k += 8) w |= view.getUint8(i++) << k
    if (odd) h2 = Math.imul(h2 ^ w, 0x85ebca77)
    else h1 = Math.imul(h1 ^ w, 0x9e3779b1)
  }
  return (h1 ^ Math.imul(h2, 0xc2b2ae3d)) >>> 0
}

/**
 * Whether the payload buf[start, end) matches `check` under the header's
 * `flags`; unknown flags never match. A caller checking many frames of one
 * buffer passes `view` (viewOf(buf)), made once.
 */
export function frameCheckMatches(
  buf: Uint8Array,
  flags: number,
  start: number,
  end: number,
  check: number,
  view?: DataView,
): boolean {
  if (flags === 0) return crc32(buf as Buffer, start, end) === check
  if (flags !== FRAME_FLAG_HASH) return false
  return frameHash(view ?? viewOf(buf), start, end) === check
}

/** A DataView of exactly buf's bytes (its index 0 is buf[0]). */
export function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length)
}
