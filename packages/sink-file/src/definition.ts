// `use: file`: the manifest definition of the file sink. Options are validated
// by the schema (no I/O) before create() opens anything.

import { resolve } from 'node:path'
import { defineSink, PLUGIN_API_VERSION } from '@logkit/core'
import { openFileSink } from './file-sink.js'
import { readHistoryLines } from './history.js'
import { historyPathOf } from './naming.js'
import { fileSinkOptions } from './options.js'

export const fileSink = defineSink({
  name: 'file',
  apiVersion: PLUGIN_API_VERSION,
  description:
    'Append-only log files: rotation by size and time, gzip, retention, SIGHUP reopen, free-space guard, fsync on flush.',
  options: fileSinkOptions,
  // A relative path is the manifest's folder's (context.dir), else the working directory's.
  create: (options, context) =>
    openFileSink({ ...options, path: resolve(context.dir ?? '.', options.path) }, { report: context.report }),
  // What an earlier run kept for `logkit tail` (the `history` option).
  history: (options, context) =>
    options.history > 0
      ? readHistoryLines(historyPathOf(resolve(context.dir ?? '.', options.path)), options.history)
      : [],
})

/** Every definition of this package by manifest name; the CLI looks up `definitions[name]`, then `default`. */
export const definitions = { file: fileSink }
