// Every diagnostic code the NATS sink and source report, with its meaning: the
// README's diagnostics table is checked against this list (test/errors.test.ts).

import type { DiagnosticReporter } from '@logkit/core'

export const natsDiagnostics = {
  nats_disconnected:
    'The connection to the NATS server was lost; the client reconnects on its own (writes are retried, the source pauses).',
  nats_reconnected: 'The connection is back (to the server named in the message).',
  nats_duplicate:
    'JetStream dropped re-published messages as duplicates of ones it had stored (their `Nats-Msg-Id` was seen in the duplicate window): nothing is stored twice (`count` messages).',
  nats_redelivered:
    'The source got messages JetStream delivered again (an earlier reader did not acknowledge them in time, or was killed): their entries may repeat; `dedupe` removes them (`count` messages).',
  nats_bad_message:
    'A message that is neither logkit frames nor NDJSON lines, or lines that are not JSON entries: acknowledged and skipped (`count` entries or messages).',
  fields_invalid:
    'With `encoding: ndjson`: entries whose fields are not one JSON object were sent with them quoted under `logkit_invalid_fields` (`count`).',
} as const

export type NatsDiagnosticCode = keyof typeof natsDiagnostics

export type NatsReporter = (
  diagnostic: Omit<Parameters<DiagnosticReporter>[0], 'code'> & { readonly code: NatsDiagnosticCode },
) => void
