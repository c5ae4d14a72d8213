// Every error @logkit/transport-nats can raise, by code, in the same form as
// core's table. Tests assert on `err.code`, never on message text; the README
// has one row per code and test/errors.test.ts fails when the two drift apart.
// No message ever holds a password, token, seed or the contents of a creds file.

import { LogkitError } from '@logkit/core'

export const natsErrorCodes = {
  LOGKIT_ERR_NATS_CONNECT:
    'No NATS server of `servers` could be reached, or the connection closed for good: check the addresses, that nats-server runs with `-js`, and the network.',
  LOGKIT_ERR_NATS_AUTH:
    'The server refused the credentials (`auth`): check the user and password, token, nkey seed or creds file (their values are never printed).',
  LOGKIT_ERR_NATS_TLS:
    'TLS could not be set up: a `tls` file (ca, cert, key) is missing or unreadable, or the server and the client disagree on TLS.',
  LOGKIT_ERR_NATS_CREDENTIALS:
    'A credentials file (`auth.credsFile`) or an nkey seed could not be read or is not in the expected form.',
  LOGKIT_ERR_NATS_STREAM:
    "The stream could not be created or found (`stream.create: false` and it does not exist), or its subjects do not cover the sink's subject: create it, or fix `stream`.",
  LOGKIT_ERR_NATS_PUBLISH:
    'A message was not acknowledged by JetStream within `ackTimeoutMs` (server down, no stream leader, stream full with discard new): the runtime retries the write; the message ids make the retry safe.',
  LOGKIT_ERR_NATS_CLOSED: 'The sink was used after close().',
} as const

export type NatsErrorCode = keyof typeof natsErrorCodes

/** A LogkitError with one of this package's codes; `retryable: false` tells the runtime not to retry it. */
export function natsError(
  code: NatsErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean } = {},
): LogkitError & { readonly retryable: boolean } {
  const { retryable = true, ...rest } = options
  return Object.assign(new LogkitError(code, message, rest), { retryable })
}
