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
  nats_stream_missing:
    'A publish found no stream for its subject (the stream was deleted, or a `storage: memory` stream was lost in a server restart): the sink makes it again (when `stream.create`) and the write is retried.',
  nats_sink_blocked:
    "After start-up, the sink's stream check or a publish failed in a way only the operator mends (the stream deleted with `stream.create: false`, its subjects no longer covering the subject, a permission revoked): the writes are held and retried (the stream is checked again before each), nothing is acknowledged upstream until JetStream stores it. Reported at most once a minute per kind (`details.error`).",
  nats_consumer_recreated:
    'The durable consumer was gone and the source made it again: from the stream sequence after the last one acknowledged (`details.startSeq`) when the stream is the same one, from the start when the stream is new (it was deleted and made again).',
  nats_consumer_unavailable:
    "The source could not get or pull from its durable consumer (the stream or consumer is missing or was deleted, no leader yet, the server away): the message has the error's text; it retries, and makes the consumer again when it is gone. The first error of each kind is reported, and `logkit status` shows the last (`lastError`).",
  nats_max_payload:
    "`maxMessageBytes` is above what the server takes in one message (its `max_payload`, less room for headers): messages are cut to the server's size.",
  fields_invalid:
    'With `encoding: ndjson`: entries whose fields are not one JSON object were sent with them quoted under `logkit_invalid_fields` (`count`).',
} as const

export type NatsDiagnosticCode = keyof typeof natsDiagnostics

export type NatsReporter = (
  diagnostic: Omit<Parameters<DiagnosticReporter>[0], 'code'> & { readonly code: NatsDiagnosticCode },
) => void
