// Every error @logkit/sink-file can raise, by code, in the same form as core's
// table. Tests assert on `err.code`, never on message text; the README has one
// row per code and test/errors.test.ts fails when the two drift apart.

import { LogkitError } from '@logkit/core'

export const fileSinkErrorCodes = {
  LOGKIT_ERR_FILE_UNSAFE:
    'The log path is a symlink, a folder or another non-regular file, or is owned by another user.',
  LOGKIT_ERR_FILE_DIR_MISSING: 'The directory of the log path does not exist and `mkdir` is not set.',
  LOGKIT_ERR_FILE_OPEN:
    'The log file could not be opened or created (permissions, read-only file system…), or its folder could not be made.',
  LOGKIT_ERR_FILE_FOREIGN_TAIL:
    'The file already at the log path ends in a partial line the sink did not write; it is left unchanged.',
  LOGKIT_ERR_FILE_WRITE: 'Writing to the log file failed (disk full, I/O error); the batch was not written.',
  LOGKIT_ERR_FILE_CLOSED:
    'The sink was used after close(), or close() gave up a write held by the free-space guard.',
} as const

export type FileSinkErrorCode = keyof typeof fileSinkErrorCodes

/** A LogkitError with one of this package's codes. */
export function fileSinkError(
  code: FileSinkErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): LogkitError {
  return new LogkitError(code, message, options)
}
