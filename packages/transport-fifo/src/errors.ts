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

/**
 * Codes of the process warnings (`process.emitWarning`, type 'LogkitWarning')
 * the producer raises: data it had to give up, said once where its owner sees it.
 */
export const warningCodes = {
  LOGKIT_W_TRANSPORT_DROPPING:
    'The producer started dropping entries: its buffer is full and no collector takes them fast enough (or at all).',
  LOGKIT_W_FIFO_ABANDONED:
    'close() gave up waiting for a collector: the entries still buffered were not delivered.',
} as const

export type FifoWarningCode = keyof typeof warningCodes

/** Says `message` once, as a process warning with `code`, where the producer's owner sees it (stderr by default). */
export function warn(code: FifoWarningCode, message: string): void {
  process.emitWarning(message, { type: 'LogkitWarning', code })
}

/** A LogkitError with one of this package's codes. */
export function fifoError(
  code: FifoErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): LogkitError {
  return new LogkitError(code, message, options)
}
