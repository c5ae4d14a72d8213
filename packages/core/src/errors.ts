// Every error logkit core can raise, by code. Tests assert on `err.code`, never
// on message text; docs/errors.md has one row per code and a test keeps the
// table and the docs in step.

import { hasBrand } from './process-wide.js'

export const errorCodes = {
  LOGKIT_ERR_OPTIONS_INVALID: 'A component was given options that do not match its schema.',
  LOGKIT_ERR_PLUGIN_API_VERSION: 'A plugin was built for another version of the plugin contract.',
  LOGKIT_ERR_PLUGIN_INVALID: 'A module does not export a logkit plugin definition of the expected kind.',
  LOGKIT_ERR_LEVEL_UNKNOWN: 'A level name or number is not one of trace, debug, info, warn, error, fatal.',
  LOGKIT_ERR_FRAME_TOO_LARGE: 'An encoded frame is larger than the configured maximum frame size.',
  LOGKIT_ERR_FRAME_MALFORMED: 'A frame payload is not a valid logkit.v1.Frame.',
  LOGKIT_ERR_PIPELINE_STATE: 'A pipeline method was called in a state that does not allow it.',
  LOGKIT_ERR_PIPELINE_EMPTY: 'A pipeline was created without a source or without a sink.',
  LOGKIT_ERR_FORMAT_TEMPLATE: 'A text format template names a placeholder that does not exist.',
  LOGKIT_ERR_REDACT_PATH: 'A redact path cannot be parsed.',
  LOGKIT_ERR_APP_NAME_INVALID: 'An app name cannot be used as a directory name.',
  LOGKIT_ERR_APP_MISSING: 'A logger was made without an app: neither its `app` option nor LOGKIT_APP is set.',
  LOGKIT_ERR_RUNTIME_DIR_UNSAFE:
    'A runtime directory or file is a symlink, not a directory, or not owned by this user.',
  LOGKIT_ERR_RUNTIME_DIR_SHARED:
    'An existing runtime directory logkit did not create is open to other users; logkit does not change its mode.',
  LOGKIT_ERR_SESSION_LOCKED: 'Another live collector already holds the session of this app.',
  LOGKIT_ERR_SESSION_LOCK_UNREADABLE:
    "An app's lock file names no collector pid, so it cannot be told stale.",
  LOGKIT_ERR_WIRE_NATIVE:
    'The native wire loops (@logkit/wire-native) were asked for and are not installed, not built, or turned off.',
} as const

/** Core's codes. */
export type ErrorCode = keyof typeof errorCodes
/** Any package's code: plugins keep their own table in the same form. */
export type LogkitErrorCode = ErrorCode | `LOGKIT_ERR_${string}`

/**
 * Marks every LogkitError, whichever copy of this module made it: `Symbol.for`
 * because `@logkit/core/producer` is a bundle with a class of its own, and a
 * process that loads it beside `@logkit/core` (a collector that also logs, the
 * CLI) must recognise both copies' errors.
 */
const ERROR_BRAND = Symbol.for('logkit.LogkitError')

/** The one error class of logkit: a stable `code`, a message that says what to do, and the cause. */
export class LogkitError extends Error {
  /** `instanceof LogkitError` checks the brand, so it holds across the bundled and unbundled copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // A subclass keeps the ordinary prototype check: `this` is the class on the right of instanceof.
    // biome-ignore lint/complexity/noThisInStatic: which class was asked about decides the check
    if (this !== LogkitError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return hasBrand(value, ERROR_BRAND)
  }

  /** On the prototype, so subclasses carry it too. */
  get [ERROR_BRAND](): true {
    return true
  }

  readonly code: LogkitErrorCode
  /** Structured details, e.g. the option path of an invalid option. */
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(
    code: LogkitErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'LogkitError'
    this.code = code
    this.details = options.details
  }
}

/** True when `err` is a LogkitError, optionally of the given code. */
export function isLogkitError(err: unknown, code?: LogkitErrorCode): err is LogkitError {
  return err instanceof LogkitError && (code === undefined || err.code === code)
}
