// Every diagnostic code the webhook sink reports, with its meaning: the
// README's diagnostics table is checked against this list (test/errors.test.ts).
// Each counts in `logkit status` (diagnostics by code) and, where it is about
// entries, carries their `count`.

import type { DiagnosticReporter } from '@logkit/core'

export const webhookSinkDiagnostics = {
  rejected:
    'The endpoint refused a request with a status not in `retryOn` (e.g. 400): not retried; reported once with the status and an excerpt of the answer; its entries went to the dead-letter file.',
  dead_lettered:
    'Entries whose request used up its retries, was too large, or met a gone webhook, written to the dead-letter file (`count`, `details.reason`).',
  dead_letter_discarded:
    'Rotation of the dead-letter file removed its oldest file past `deadLetter.keep`: `count` entries in it are lost (no `count`, and `details.countUnknown`, when the file could not be read to count them).',
  dead_letter_unparsable:
    '`logkit replay` found lines in the dead-letter file that are not JSON entries (a partial line a crash left): not sent, put back into the file as a record of their own (`count`).',
  delivery_failing:
    'A request used up its retries: until one gets through, each later request gets one attempt (its entries then go to the dead-letter file).',
  delivery_recovered: 'A request got through again after `delivery_failing`.',
  webhook_gone:
    'A Discord webhook answered 401, 403 or 404: the sink stops sending to it (everything goes to the dead-letter file) until it is restarted.',
  fields_invalid:
    'Entries whose fields are not one JSON object were sent with them quoted under `logkit_invalid_fields` (json and ndjson presets).',
} as const

export type WebhookSinkDiagnosticCode = keyof typeof webhookSinkDiagnostics

/** A reporter that takes only this package's codes; any DiagnosticReporter is one. */
export type WebhookSinkReporter = (
  diagnostic: Omit<Parameters<DiagnosticReporter>[0], 'code'> & { readonly code: WebhookSinkDiagnosticCode },
) => void
