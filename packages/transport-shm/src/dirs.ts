// The app's ring directory on the memory-backed file system, made private
// (0700, no symlinks, ours) — and a clear error where there is no such file
// system.

import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { ensurePrivateDir, LogkitError, type RuntimePaths } from '@logkit/core/producer'

export function ensureMemoryDir(paths: RuntimePaths): string {
  const userDir = dirname(paths.memoryDir)
  const base = dirname(userDir)
  if (!existsSync(base)) {
    throw new LogkitError(
      'LOGKIT_ERR_SHM_UNAVAILABLE',
      `${base} does not exist: shared-memory rings need a memory-backed file system there (mount a tmpfs, or set LOGKIT_SHM_DIR to one)`,
      { details: { dir: base } },
    )
  }
  ensurePrivateDir(userDir)
  return ensurePrivateDir(paths.memoryDir)
}
