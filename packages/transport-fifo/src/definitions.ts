// The manifest components of this package: `use: fifo` and `use: stdin`. The
// CLI looks up `definitions[name]`, then the module's default export.

import { defineSource, PLUGIN_API_VERSION } from '@logkit/core'
import { createFifoSource } from './fifo-source.js'
import { fifoSourceOptions, stdinSourceOptions } from './options.js'
import { createStdinSource } from './stdin-source.js'

export const fifoSource = defineSource({
  name: 'fifo',
  apiVersion: PLUGIN_API_VERSION,
  options: fifoSourceOptions,
  perApp: true,
  description: "Entries from every producer's named pipe in the app's session directory.",
  create: (options, context) => createFifoSource(options, context),
})

export const stdinSource = defineSource({
  name: 'stdin',
  apiVersion: PLUGIN_API_VERSION,
  options: stdinSourceOptions,
  perApp: true,
  description: 'Lines of standard input: NDJSON (pino) lines with their fields, other lines as messages.',
  create: (options, context) => createStdinSource(options, context),
})

export const definitions = Object.freeze({ fifo: fifoSource, stdin: stdinSource })

export default fifoSource
