// `use: webhook`: the manifest definition of the webhook sink. Options are
// validated by the schema (no I/O) before create() makes anything.

import { resolve } from 'node:path'
import { defineSink, PLUGIN_API_VERSION } from '@logkit/core'
import { webhookSinkOptions } from './options.js'
import { openWebhookSink } from './webhook-sink.js'

export const webhookSink = defineSink({
  name: 'webhook',
  apiVersion: PLUGIN_API_VERSION,
  description:
    'Batched HTTP delivery: Slack, Discord, JSON and NDJSON presets, gzip, retries with backoff and Retry-After, a dead-letter file.',
  options: webhookSinkOptions,
  // A relative dead-letter path is the manifest's folder's (context.dir), else the working directory's.
  create: (options, context) =>
    openWebhookSink(
      options.deadLetter === undefined
        ? options
        : {
            ...options,
            deadLetter: { ...options.deadLetter, path: resolve(context.dir ?? '.', options.deadLetter.path) },
          },
      { report: context.report, id: context.id },
    ),
})

/** Every definition of this package by manifest name; the CLI looks up `definitions[name]`, then `default`. */
export const definitions = { webhook: webhookSink }
