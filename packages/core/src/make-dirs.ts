// Directories on disk: creating one and its missing parents, one level at a
// time (producers use it: only light built-ins here; syncDir is in sync-dir.ts).

import { mkdirSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

/**
 * Creates `dir` and its missing parents with `mode`, as mkdirSync(dir, {
 * recursive: true, mode }) does (and like it, returns the first directory it
 * made, or undefined when there was none to make), except that a level the
 * file system refuses ends it with that error: Node 20's recursive mkdir
 * loops forever, at full CPU, on a path under /proc. Throws ENOTDIR when a
 * level is a file.
 */
export function makeDirs(dir: string, mode: number): string | undefined {
  const missing: string[] = []
  for (let at = resolve(dir); ; ) {
    try {
      if (!statSync(at).isDirectory()) {
        throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), {
          code: 'ENOTDIR',
          path: at,
        })
      }
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    missing.push(at)
    const parent = dirname(at)
    if (parent === at) break
    at = parent
  }
  let first: string | undefined
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level, { mode })
      first ??= level
    } catch (err) {
      // Made meanwhile by someone else: fine, go on.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return first
}
