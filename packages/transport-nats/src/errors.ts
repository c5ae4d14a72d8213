// Every error @logkit/transport-nats can raise, by code, in the same form as
// core's table. Tests assert on `err.code`, never on message text; the README
// has one row per code and test/errors.test.ts fails when the two drift apart.
// No message ever holds a password, token, seed or the contents of a creds file.

import { LogkitError } from '@logkit/core'

export const natsErrorCodes = {
  LOGKIT_ERR_NATS_CONNECT:
    'No NATS server of `servers` could be reached, or the connection closed for good: check the addresses, that nats-server runs with `-js`, and the network.',
  LOGKIT_ERR_NATS_AUTH:
    "The server refused the credentials (`auth`), or a permission they need (publishing to `$JS.API.>` or the subject): check the user and password, token, nkey seed or creds file (their values are never printed) and the user's permissions. At start-up it stops the sink; a permission revoked after start-up holds the writes, retried (`nats_sink_blocked`); it ends the source.",
  LOGKIT_ERR_NATS_TLS:
    'TLS could not be set up: a `tls` file (ca, cert, key) is missing or unreadable, or the server and the client disagree on TLS.',
  LOGKIT_ERR_NATS_CREDENTIALS:
    'A credentials file (`auth.credsFile`) or an nkey seed could not be read or is not in the expected form.',
  LOGKIT_ERR_NATS_STREAM:
    "The stream could not be created or found (`stream.create: false` and it does not exist), or its subjects do not cover the sink's subject: create it, or fix `stream`. At start-up it stops the sink; after start-up the write is held and retried (`nats_sink_blocked`) until it is mended.",
  LOGKIT_ERR_NATS_PUBLISH:
    "A message was not acknowledged by JetStream within `ackTimeoutMs` (server down, no stream leader, stream full with discard new): the runtime retries the write; the message ids make the retry safe. A message larger than the server's `max_payload` is retried in smaller messages; when the client refused a message for another reason (an argument it does not take), the error is not retried.",
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

/** What a NATS client or JetStream error stands for, as the sink and source act on it. */
export type FailureKind = 'permission' | 'not_found' | 'no_responders' | 'argument' | 'other'

/** The kind of `err`, looking through its causes (the client wraps a permission violation in a RequestError). */
export function failureKind(err: unknown): FailureKind {
  for (let e = err as ErrorLike | undefined, depth = 0; e != null && depth < 5; e = e.cause, depth++) {
    const name = String(e.name ?? e.constructor?.name ?? '')
    const message = String(e.message ?? '')
    if (name === 'PermissionViolationError' || /permissions violation/i.test(message)) return 'permission'
    if (name === 'InvalidArgumentError') return 'argument'
    if (name === 'NoRespondersError' || name === 'JetStreamNotEnabled' || /no responders/i.test(message))
      return 'no_responders'
    if (isNotFound(e)) return 'not_found'
  }
  return 'other'
}

interface ErrorLike {
  readonly name?: unknown
  readonly message?: unknown
  readonly code?: unknown
  readonly status?: unknown
  readonly cause?: ErrorLike
  readonly constructor?: { readonly name?: string }
}

/** A JetStream "not found" answer (stream or consumer). */
export function isNotFound(err: unknown): boolean {
  const e = err as ErrorLike | undefined
  return (
    e?.code === 10059 || e?.code === 10014 || e?.status === 404 || /not found/i.test(String(e?.message ?? ''))
  )
}

/** An error's text as it may be shown (no credential is ever in a client error's message): one line, at most 200 characters. */
export function errorText(err: unknown): string {
  return String((err as Error | undefined)?.message ?? err)
    .replace(/[\r\n]+/g, ' ')
    .slice(0, 200)
}
