// Every error @logkit/sink-webhook can raise, by code, in the same form as
// core's table. Tests assert on `err.code`, never on message text; the README
// has one row per code and test/errors.test.ts fails when the two drift apart.
// No message names more of the endpoint than its scheme and host.

import { LogkitError } from '@logkit/core'

export const webhookSinkErrorCodes = {
  LOGKIT_ERR_WEBHOOK_REJECTED:
    'The endpoint answered a status not in `retry.retryOn` (a 4xx such as 400 or 404), and no dead-letter file is set: the batch is not retried.',
  LOGKIT_ERR_WEBHOOK_UNDELIVERED:
    'Every attempt of a request failed (network error, timeout, a status in `retryOn`), and no dead-letter file is set: the runtime retries the write by its own policy.',
  LOGKIT_ERR_WEBHOOK_TOO_LARGE:
    'One entry alone is larger than `batch.maxBytes`, and no dead-letter file is set: it is never sent.',
  LOGKIT_ERR_WEBHOOK_GONE:
    'A Discord webhook answered 401, 403 or 404 (deleted or revoked): the sink stopped using it, and no dead-letter file is set.',
  LOGKIT_ERR_WEBHOOK_DEAD_LETTER:
    'Writing the dead-letter file failed (permissions, disk full, a symlink at its path): the write is not acknowledged and is retried.',
  LOGKIT_ERR_WEBHOOK_CLOSED: 'The sink was used after close().',
  LOGKIT_ERR_WEBHOOK_REPLAY:
    'A dead-letter file could not be replayed: it is missing or unreadable, or what was not delivered could not be written back (the file named in the message holds it: replay that).',
} as const

export type WebhookSinkErrorCode = keyof typeof webhookSinkErrorCodes

/** A LogkitError with one of this package's codes; `retryable: false` tells the runtime not to retry it. */
export function webhookSinkError(
  code: WebhookSinkErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean } = {},
): LogkitError & { readonly retryable: boolean } {
  const { retryable = true, ...rest } = options
  return Object.assign(new LogkitError(code, message, rest), { retryable })
}
