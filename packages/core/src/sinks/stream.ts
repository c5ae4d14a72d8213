// A sink that writes one formatted line per entry to a Node Writable: stdout
// for the console, any stream for embedding. Honours the stream's backpressure:
// a write resolves once the stream has handed the batch on.

import type { Writable } from 'node:stream'
import { z } from 'zod'
import type { LogEntry } from '../entry.js'
import { createFormatter, type FormatterOptions } from '../format/index.js'
import { defineSink, PLUGIN_API_VERSION } from '../plugin.js'
import type { Sink } from '../sink.js'

export interface StreamSinkOptions {
  readonly stream: Writable
  /** How entries become lines (default json); an entry that already has a `line` (format operator) is written as is. */
  readonly format?: FormatterOptions
  /** Call stream.end() on close (default false: stdout and stderr stay open). */
  readonly end?: boolean
}

export function createStreamSink({
  stream,
  format = { format: 'json' },
  end = false,
}: StreamSinkOptions): Sink {
  const render = createFormatter(format)
  const written = (text: string) =>
    new Promise<void>((resolve, reject) => {
      stream.write(text, (err) => (err ? reject(err) : resolve()))
    })
  return {
    write(batch: readonly LogEntry[]) {
      let text = ''
      for (const entry of batch) text += `${entry.line ?? render(entry)}\n`
      // Resolves when the stream has handed the text on (to the OS, for files).
      return written(text)
    },
    flush() {
      return written('')
    },
    async close() {
      if (end && !stream.writableEnded) {
        await new Promise<void>((resolve) => stream.end(resolve))
      }
    },
  }
}

const consoleOptions = z
  .object({
    format: z.enum(['json', 'logfmt', 'text', 'pretty']).default('pretty'),
    template: z.string().optional(),
    colors: z.boolean().optional(),
    stream: z.enum(['stdout', 'stderr']).default('stdout'),
  })
  .strict()

/** `use: console`: entries to the terminal, pretty by default. */
export const consoleSink = defineSink({
  name: 'console',
  apiVersion: PLUGIN_API_VERSION,
  description: 'Writes entries to stdout or stderr, one line each.',
  options: consoleOptions,
  create: (opts) =>
    createStreamSink({
      stream: opts.stream === 'stderr' ? process.stderr : process.stdout,
      format: {
        format: opts.format,
        ...(opts.template === undefined ? {} : { template: opts.template }),
        ...(opts.colors === undefined ? {} : { colors: opts.colors }),
      },
    }),
})
