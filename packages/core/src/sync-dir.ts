// Making a name made or renamed in a folder durable: fsync of the folder. Kept
// apart from make-dirs.ts, which producers load: node:fs/promises is a
// collector's (sinks') need.

import { open } from 'node:fs/promises'

/**
 * fsync of a folder: a file created, renamed or removed in it survives a
 * power cut only once its folder is. A file system that cannot fsync a folder
 * (or a folder that cannot be opened) is left as it is: the files' own fsync
 * is all there is then.
 */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // See above.
  }
}
