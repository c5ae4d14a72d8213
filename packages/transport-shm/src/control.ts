// Level control: the collector side writes a level into the control word of
// the rings of an app's producers (optionally only one source's); each
// producer's transport notices and tells its logger.

import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { parseLevel, type RuntimeEnv, runtimePaths } from '@logkit/core/producer'
import { CONTROL_INDEX, RING_SUFFIX } from './layout.js'
import { Ring } from './ring.js'

export interface SetLevelOptions {
  readonly level: string | number
  /** Only the producers of this source (the ring file's first name part). */
  readonly source?: string | undefined
  readonly env?: RuntimeEnv | undefined
}

/** Asks the producers of `app` to log at `level`; returns how many rings were told. */
export function setProducerLevel(app: string, { level, source, env }: SetLevelOptions): number {
  const value = parseLevel(level)
  const dir = runtimePaths(app, env).memoryDir
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return 0
  }
  let told = 0
  for (const name of names) {
    if (!name.endsWith(RING_SUFFIX)) continue
    if (source !== undefined && !name.startsWith(`${source.replace(/[^A-Za-z0-9_-]/g, '_')}.`)) continue
    try {
      const ring = Ring.open(join(dir, name))
      Atomics.store(ring.header, CONTROL_INDEX, value)
      ring.close()
      told++
    } catch {
      // Not a ring we can open (corrupt, or just removed): nothing to tell.
    }
  }
  return told
}
