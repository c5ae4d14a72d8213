// Which rotated files exist, and which of them retention removes. Only names
// that parse as this sink's rotated names (naming.ts), and only regular files
// of this user, are ever considered: anything else in the folder is invisible
// here, so it can never be removed.

import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { compareRotated, type Naming, type RotatedName } from './naming.js'

export interface RotatedFile extends RotatedName {
  readonly path: string
  readonly mtimeMs: number
}

export interface RetentionPolicy {
  /** Rotated files kept, newest first (a file and its .gz count once). */
  readonly keep?: number | undefined
  /** Rotated files last written longer ago than this are removed. */
  readonly maxAgeMs?: number | undefined
}

/** This sink's rotated files in its folder (partial compressions included), oldest first. */
export async function scanRotated(naming: Naming): Promise<RotatedFile[]> {
  const me = process.getuid?.()
  const found: RotatedFile[] = []
  for (const name of await readdir(naming.dir)) {
    const parsed = naming.parse(name)
    if (parsed === undefined) continue
    const path = join(naming.dir, name)
    const st = await lstat(path).catch(() => undefined)
    if (st === undefined || !st.isFile() || (me !== undefined && st.uid !== me)) continue
    found.push({ ...parsed, path, mtimeMs: st.mtimeMs })
  }
  return found.sort(compareRotated)
}

/** The files `policy` removes at `now`, from a scan (partials are left to the start-up scan). */
export function expired(files: readonly RotatedFile[], policy: RetentionPolicy, now: number): RotatedFile[] {
  const rotations = new Map<string, RotatedFile[]>()
  for (const f of files) {
    if (f.partial) continue
    const id = `${f.key}.${f.index}`
    const group = rotations.get(id)
    if (group === undefined) rotations.set(id, [f])
    else group.push(f)
  }
  const newestFirst = [...rotations.values()].sort((a, b) =>
    compareRotated(b[0] as RotatedFile, a[0] as RotatedFile),
  )
  const out: RotatedFile[] = []
  newestFirst.forEach((group, i) => {
    const lastWritten = Math.max(...group.map((f) => f.mtimeMs))
    const tooMany = policy.keep !== undefined && i >= policy.keep
    const tooOld = policy.maxAgeMs !== undefined && now - lastWritten > policy.maxAgeMs
    if (tooMany || tooOld) out.push(...group)
  })
  return out
}
