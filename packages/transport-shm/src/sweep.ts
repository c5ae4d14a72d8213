// Who removes ring files, so that the rings of dead producers do not pile up
// in /dev/shm while no collector runs:
//
// - the collector, once a producer is gone (its lock released) and its ring
//   is drained and acknowledged: it reports producer_exited and removes it;
// - a producer that closes while no collector is reading, when its ring holds
//   nothing a collector still needs: it removes its own file;
// - a producer that starts: it removes the rings of dead producers that hold
//   nothing a collector still needs, when no collector is reading them, and
//   the files of producers that died while creating their ring.
//
// "Nothing a collector still needs": every entry acknowledged by a collector
// (at most the producer's goodbye after HEAD) and every drop reported. A ring
// with entries nobody has read is kept, whatever its age: the next collector
// salvages it.

import { closeSync, constants, fstatSync, openSync, readdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { decodeFrame, FRAME_HEADER_SIZE, isLogkitError } from '@logkit/core/producer'
import { BEAT_STALE_MS, DROPS_REPORTED_INDEX, RING_SUFFIX } from './layout.js'
import { native } from './native.js'
import { Ring } from './ring.js'
import { FrameScanner } from './scan.js'

/** A ring file with no header this long after its creation belongs to a producer that died creating it. */
const UNINITIALISED_GRACE_MS = 5000
/** A goodbye frame is a few dozen bytes. */
const GOODBYE_MAX_BYTES = 256

/** Whether the ring holds nothing a collector still needs (see above). */
export function nothingToDeliver(ring: Ring): boolean {
  const reported = Atomics.load(ring.header, DROPS_REPORTED_INDEX) >>> 0
  if (ring.dropped > reported) return false
  const left = ring.used(ring.head)
  if (left === 0) return true
  if (left > GOODBYE_MAX_BYTES) return false
  const frame = new FrameScanner(GOODBYE_MAX_BYTES).at(ring, ring.head, left)
  if (frame === undefined || frame.size !== left) return false
  const goodbye = decodeFrame(frame.buf, frame.at + FRAME_HEADER_SIZE, frame.at + frame.size)
  return goodbye.type === 'goodbye' && goodbye.dropped <= reported
}

/** Removes the rings of `dir` that belong to dead producers and hold nothing a collector needs; returns how many. */
export function removeDeadRings(dir: string, now = Date.now()): number {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  let removed = 0
  for (const name of names) {
    if (!name.endsWith(RING_SUFFIX)) continue
    const path = join(dir, name)
    if (removable(path, now)) {
      try {
        unlinkSync(path)
        removed++
      } catch {}
    }
  }
  return removed
}

function removable(path: string, now: number): boolean {
  let ring: Ring
  try {
    ring = Ring.open(path)
  } catch (err) {
    // A file that is not a ring is left alone; one that never got its header may be an abandoned creation.
    return isLogkitError(err) && err.details?.['reason'] === 'uninitialised' && abandonedCreation(path, now)
  }
  try {
    // A reading collector reaps its own rings, and reports them as it does.
    return !ring.producerAlive() && !ring.collectorBeating(now, BEAT_STALE_MS) && nothingToDeliver(ring)
  } finally {
    ring.close()
  }
}

/** A ring file still without a header, long after it was made, whose lock nobody holds. */
function abandonedCreation(path: string, now: number): boolean {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch {
    return false
  }
  try {
    // The producer locks its file before it sizes it: no lock, and old, means it died in between.
    return now - fstatSync(fd).mtimeMs > UNINITIALISED_GRACE_MS && !native().lockHeld(fd)
  } finally {
    closeSync(fd)
  }
}
