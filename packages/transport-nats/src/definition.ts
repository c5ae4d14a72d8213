// `use: nats`, as a sink (a per-host collector → JetStream) and as a source
// (JetStream → a central pipeline). Options are validated by their schemas
// (no I/O) before create() makes anything. One short name for both kinds:
// `definitions.nats` is the source and the default export the sink, which is
// how the CLI finds each (definitions[name] of the kind asked, else default).

import { defineSink, defineSource, PLUGIN_API_VERSION } from '@logkit/core'
import { openNatsSink } from './nats-sink.js'
import { createNatsSource } from './nats-source.js'
import { natsSinkOptions, natsSourceOptions } from './options.js'

export const natsSink = defineSink({
  name: 'nats',
  apiVersion: PLUGIN_API_VERSION,
  description:
    'Publish batches to NATS JetStream (frames or NDJSON), acknowledged upstream once JetStream has stored them.',
  options: natsSinkOptions,
  create: (options, context) =>
    openNatsSink(options, { report: context.report, id: context.id, app: context.app, dir: context.dir }),
})

export const natsSource = defineSource({
  name: 'nats',
  apiVersion: PLUGIN_API_VERSION,
  description:
    'Read a JetStream stream through a durable pull consumer, acknowledging each message once its entries are written.',
  options: natsSourceOptions,
  create: (options, context) => createNatsSource(options, context),
})

/** The source by manifest name; the sink is the default export (see the header comment). */
export const definitions = { nats: natsSource }
