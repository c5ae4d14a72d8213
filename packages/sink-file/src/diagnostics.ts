// Every diagnostic code the file sink reports, with its meaning: the README's
// diagnostics table is checked against this list (test/errors.test.ts).

import type { DiagnosticReporter } from '@logkit/core'

export const fileSinkDiagnostics = {
  dropped:
    "Entries the free-space guard's `drop` policy let go; `count` is exact, `details.reason` is `disk_low`.",
  disk_low: 'Free space fell below `minFreeBytes`; the guard holds (`block`) or drops (`drop`) writes.',
  disk_ok: 'Free space is back above `minFreeBytes` (or the threshold was lowered): writing again.',
  space_check_failed: 'statfs on the log folder failed; the guard lets writes through until it works again.',
  fields_invalid:
    'Entries whose fields would have broken their JSON line were written with them quoted under `logkit_invalid_fields`; `count` is exact, once per batch.',
  file_truncated:
    'With `copytruncate`: the file was truncated under the sink; writing goes on at its new end.',
  torn_tail:
    'At open, the file ended in a line this sink wrote and a crash cut short; those bytes (never acknowledged) were removed.',
  record_failed:
    'Writing the ownership record beside the log failed; after a crash the sink cannot repair its own torn line.',
  rotate_failed: 'Renaming the file to its rotated name failed; the sink writes on to the same file.',
  reopen_failed: 'Reopening on SIGHUP failed; the next write tries again.',
  compress_failed: 'Gzip of a rotated file failed; the uncompressed file is kept.',
  retention_failed: 'Removing an expired rotated file failed; tried again after the next rotation.',
  recovery_failed: 'The start-up clean-up of an interrupted compression failed.',
  history_failed: 'Writing the history file failed; `logkit tail` shows older history until the next flush.',
} as const

export type FileSinkDiagnosticCode = keyof typeof fileSinkDiagnostics

/** A reporter that takes only this package's codes; any DiagnosticReporter is one. */
export type FileSinkReporter = (
  diagnostic: Omit<Parameters<DiagnosticReporter>[0], 'code'> & { readonly code: FileSinkDiagnosticCode },
) => void
