// Loads the native addon (native/shm.cc), built from source by node-gyp when
// the package is installed. If it is missing, the error says what to install.

import { createRequire } from 'node:module'
import { LogkitError } from '@logkit/core/producer'

export interface ShmAddon {
  /** Maps `path` as shared memory: creates it (O_EXCL, 0600, `size` bytes) or opens it at its own size. */
  map(path: string, size: number, create: boolean): SharedArrayBuffer
  /** Creates and maps a producer's ring, its pages reserved, under an exclusive flock held on the returned fd. */
  create(path: string, size: number): [SharedArrayBuffer, number]
  /**
   * Maps an existing ring for reading, watched: a read past the end of a file
   * truncated under it reads zeros and counts a fault in faults()[slot]
   * instead of killing the process with SIGBUS. slot -1: not watched (no slot left).
   */
  open(path: string): [SharedArrayBuffer, number]
  /** The fault counts of the watched mappings, one int32 per slot. */
  faults(): SharedArrayBuffer
  /** Whether some process holds the flock of the file open on `fd`. */
  lockHeld(fd: number): boolean
  mkfifo(path: string, mode: number): void
}

let addon: ShmAddon | undefined

export function native(): ShmAddon {
  if (addon !== undefined) return addon
  const require = createRequire(import.meta.url)
  try {
    addon = require('../build/Release/logkit_shm.node') as ShmAddon
  } catch (cause) {
    throw new LogkitError(
      'LOGKIT_ERR_SHM_ADDON',
      `the native addon of @logkit/transport-shm is not built or cannot be loaded (${(cause as Error).message}): run \`npm rebuild @logkit/transport-shm\`, which needs python3, make and a C++ compiler (on Debian: apt-get install python3 make g++)`,
      { cause },
    )
  }
  return addon
}
