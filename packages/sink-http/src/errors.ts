// Every error @logkit/sink-http can raise, by code, in the same form as core's
// table. Tests assert on `err.code`, never on message text; the README has one
// row per code and test/errors.test.ts fails when the two drift apart. No
// message ever contains the access token.

import { LogkitError } from '@logkit/core'

export const httpSinkErrorCodes = {
  LOGKIT_ERR_HTTP_LISTEN:
    'The web view could not listen on its host and port (the port is taken, the address is not this machine’s, or a port below 1024 without the right).',
} as const

export type HttpSinkErrorCode = keyof typeof httpSinkErrorCodes

export function httpSinkError(
  code: HttpSinkErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): LogkitError {
  return new LogkitError(code, message, options)
}
