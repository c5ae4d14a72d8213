// For tests that run collectors and producers: folders of the test's own,
// apart from any real logkit on the machine, and gone when the test process
// exits (however its tests ended), so a test run leaves nothing in the
// temporary folder or in /dev/shm.

import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const made: string[] = []
let removalRegistered = false

/**
 * A new folder under `parent` (the temporary folder unless told), its name
 * starting with `prefix`; it and everything in it are removed when this
 * process exits.
 */
export function tempDir(prefix: string, parent: string = tmpdir()): string {
  if (!removalRegistered) {
    removalRegistered = true
    process.once('exit', removeTempDirs)
  }
  const dir = mkdtempSync(join(parent, prefix))
  made.push(dir)
  return dir
}

/** Where shared memory lives: /dev/shm where there is one, else the temporary folder. */
export function shmParent(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
}

export interface PrivateRuntimeEnv {
  /** The runtime folder (sessions, sockets, pipes): `run` inside `work`, made when first used. */
  readonly LOGKIT_RUNTIME_DIR: string
  /** The shared-memory folder of the rings. */
  readonly LOGKIT_SHM_DIR: string
  /** A scratch folder for the test's own files (the runtime folder's parent). */
  readonly work: string
}

/**
 * A runtime folder and a shared-memory folder of the test's own, as the
 * environment variables a collector and its producers read (pass them to
 * child processes, or as a transport's `env`). Removed when this process exits.
 */
export function privateRuntimeEnv(prefix = 'logkit-test-'): PrivateRuntimeEnv {
  const work = tempDir(prefix)
  return { LOGKIT_RUNTIME_DIR: join(work, 'run'), LOGKIT_SHM_DIR: tempDir(prefix, shmParent()), work }
}

/** Removes every folder tempDir made so far (at exit, or earlier when a test wants to check it is gone). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}
