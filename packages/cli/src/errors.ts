// Every error the logkit CLI can raise, by code. Manifest problems are collected
// (never thrown one by one) and printed as `file:line:col message`; each one
// carries one of the LOGKIT_ERR_MANIFEST_* codes. The README has one row per
// code and test/errors.test.ts keeps the table, this file and the README in step.

import { isLogkitError, LogkitError } from '@logkit/core'

export const cliErrorCodes = {
  LOGKIT_ERR_MANIFEST_INVALID: 'The manifest has one or more problems; each is listed as file:line:col.',
  LOGKIT_ERR_MANIFEST_READ: 'The manifest file cannot be read.',
  LOGKIT_ERR_MANIFEST_YAML: 'The manifest is not valid YAML (syntax error, duplicate key, tab indentation).',
  LOGKIT_ERR_MANIFEST_KEY_UNKNOWN:
    'A key the manifest format does not know (top level, pipeline, queue, retry).',
  LOGKIT_ERR_MANIFEST_KEY_MISSING:
    'A required key is missing (version, app, pipelines, sources, sinks, use).',
  LOGKIT_ERR_MANIFEST_TYPE:
    'A manifest value has the wrong type or shape (e.g. a list where a map is expected).',
  LOGKIT_ERR_MANIFEST_VERSION: 'The manifest version is not one this CLI reads (version: 1).',
  LOGKIT_ERR_MANIFEST_ENV_MISSING:
    'A $VAR reference (in braces) names an environment variable that is not set and has no default.',
  LOGKIT_ERR_MANIFEST_PIPELINE_EMPTY:
    'The manifest has no pipelines, or a pipeline has no sources or no sinks.',
  LOGKIT_ERR_MANIFEST_ID_DUPLICATE: 'Two components of one pipeline have the same id.',
  LOGKIT_ERR_MANIFEST_SOURCE_TWICE:
    'A pipeline names an app-wide source (shm, fifo) twice; one reads every producer already.',
  LOGKIT_ERR_MANIFEST_SOURCE_OPTIONS:
    'Pipelines share one reader of an app-wide source (shm, fifo), but give it different options.',
  LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN:
    'A `use:` name is not a known component (often a misspelling: see "did you mean").',
  LOGKIT_ERR_MANIFEST_PLUGIN_MISSING:
    'A `use:` name needs a package that is not installed; the message says what to install.',
  LOGKIT_ERR_MANIFEST_PLUGIN_INVALID:
    'A plugin module failed to load, or does not export a definition of the expected kind.',
  LOGKIT_ERR_MANIFEST_OPTION_INVALID: "A component's options do not match its schema.",
  LOGKIT_ERR_CLI_USAGE: 'The command line is wrong (unknown command or option, missing argument).',
  LOGKIT_ERR_CLI_PIPELINE_FAILED: 'A pipeline failed to start or failed while running.',
  LOGKIT_ERR_CLI_NO_COLLECTOR: 'No running `logkit compose` serves the control socket of that app.',
  LOGKIT_ERR_CLI_CONTROL: 'A control request (tail, status, flush, level) failed.',
  LOGKIT_ERR_CLI_REQUEST_TOO_LONG:
    'A control request line was longer than the collector accepts (64 KiB); the connection was closed.',
  LOGKIT_ERR_CLI_GREP_INVALID:
    '`tail --grep` was refused: too long, or a pattern the linear-time engine cannot run (backreferences, lookaround).',
  LOGKIT_ERR_CLI_TAIL_STALLED:
    'A `tail` that read nothing while its buffer stayed full for 60 s was disconnected by the collector.',
  LOGKIT_ERR_CLI_FLUSH_INCOMPLETE:
    '`flush` could not make everything durable: entries were lost since the last flush, or are held by a failing sink.',
  LOGKIT_ERR_CLI_EMIT: '`logkit emit` could not open its transport or deliver its entries.',
  LOGKIT_ERR_CLI_PID_FILE:
    'The `--pid-file` of compose cannot be written: its folder is missing or not writable, or the path is a symlink or another user’s file.',
  LOGKIT_ERR_CLI_REPLAY:
    '`logkit replay` found no such sink in the manifest, or that sink keeps no dead-letter file to replay.',
} as const

export type CliErrorCode = keyof typeof cliErrorCodes

/** Exit codes of the `logkit` binary. */
export const exitCodes = {
  /** Success; compose after a clean shutdown. */
  ok: 0,
  /** A runtime failure: a pipeline failed, no collector to talk to, delivery failed. */
  failure: 1,
  /** An invalid manifest or command line; nothing was started. */
  usage: 2,
} as const

export function cliError(
  code: CliErrorCode,
  message: string,
  options: { cause?: unknown; details?: Record<string, unknown> } = {},
): LogkitError {
  return new LogkitError(code, message, options)
}

/** An error's message for a person, with its code when it is one of logkit's (the READMEs list them). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  return isLogkitError(err) ? `${err.message} [${err.code}]` : err.message
}
