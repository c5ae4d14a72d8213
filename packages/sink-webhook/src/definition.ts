// `use: webhook`: the manifest definition of the webhook sink. Options are
// validated by the schema (no I/O) before create() makes anything.

import { defineSink, PLUGIN_API_VERSION } from '@logkit/core'
import { webhookSinkOptions } from './options.js'
import { openWebhookSink } from './webhook-sink.js'

export const webhookSink = defineSink({
  name: 'webhook',
  apiVersion: PLUGIN_API_VERSION,
  description:
    'Batched HTTP delivery: Slack, Discord, JSON and NDJSON presets, gzip, retries with backoff and Retry-After, a dead-letter file.',
  options: webhookSinkOptions,
  create: (options, context) => openWebhookSink(options, { report: context.report, id: context.id }),
})

/** Every definition of this package by manifest name; the CLI looks up `definitions[name]`, then `default`. */
export const definitions = { webhook: webhookSink }
