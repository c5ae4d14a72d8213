// `use: http`: the manifest definition of the web view. Options are validated
// by the schema (no I/O) before create() listens.

import { defineSink, PLUGIN_API_VERSION } from '@logkit/core'
import { openHttpSink } from './http-sink.js'
import { httpSinkOptions } from './options.js'

export const httpSink = defineSink({
  name: 'http',
  apiVersion: PLUGIN_API_VERSION,
  description:
    'A live web view: a page with a filtered live table, a rate chart and a producer panel, fed over Server-Sent Events.',
  options: httpSinkOptions,
  create: (options, context) =>
    openHttpSink(options, {
      report: context.report,
      title: context.app,
      ...(context.status === undefined ? {} : { status: context.status }),
    }),
})

/** Every definition of this package by manifest name; the CLI looks up `definitions[name]`, then `default`. */
export const definitions = { http: httpSink }
