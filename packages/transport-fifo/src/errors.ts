// Every error @logkit/transport-fifo can raise, by code, in the same form as
// core's table. Tests assert on `err.code`, never on message text; the README
// has one row per code and test/errors.test.ts keeps the two in step.

import { LogkitError } from '@logkit/core/producer'

export const errorCodes = {
  LOGKIT_ERR_FIFO_MKFIFO_FAILED: 'The producer could not create its named pipe with mkfifo.',
  LOGKIT_ERR_FIFO_NOT_A_PIPE: 'A path where a producer pipe should be is not a named pipe.',
  LOGKIT_ERR_FIFO_SOURCE_BUSY: "Another fifo source of this process already reads this app's pipes.",
} as const

export type FifoErrorCode = keyof typeof errorCodes

/** A LogkitError with one of this package's codes. */
export function fifoError(
  code: FifoErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): LogkitError {
  return new LogkitError(code, message, options)
}
