// A sink that writes one formatted line per entry to a Node Writable: stdout
// for the console, any stream for embedding. Honours the stream's backpressure:
// a write resolves once the stream has handed the batch on. In json, entries
// whose fields would break the line are written with them quoted (formatJson)
// and reported as `fields_invalid`, once per batch, with the count.

import type { Writable } from 'node:stream'
import { z } from 'zod'
import type { DiagnosticReporter } from '../diagnostics.js'
import type { LogEntry } from '../entry.js'
import { createFormatter, type FormatterOptions, formatJson, INVALID_FIELDS_KEY } from '../format/index.js'
import { defineSink, PLUGIN_API_VERSION } from '../plugin.js'
import type { Sink } from '../sink.js'

export interface StreamSinkOptions {
  readonly stream: Writable
  /** How entries become lines (default json); an entry that already has a `line` (format operator) is written as is. */
  readonly format?: FormatterOptions
  /** Call stream.end() on close (default false: stdout and stderr stay open). */
  readonly end?: boolean
  /** Told of entries written with their fields quoted (`fields_invalid`); a pipeline's sink context has one. */
  readonly report?: DiagnosticReporter | undefined
}

export function createStreamSink({
  stream,
  format = { format: 'json' },
  end = false,
  report,
}: StreamSinkOptions): Sink {
  const render = createFormatter(format)
  const json = render === formatJson
  const written = (text: string) =>
    new Promise<void>((resolve, reject) => {
      stream.write(text, (err) => (err ? reject(err) : resolve()))
    })
  return {
    write(batch: readonly LogEntry[]) {
      let text = ''
      let invalid = 0
      for (const entry of batch) {
        if (entry.line !== undefined) {
          // Formatted by the `format` operator, which reported bad fields itself.
          text += `${entry.line}\n`
          continue
        }
        if (json && !entry.fields.wellFormed) invalid++
        text += `${render(entry)}\n`
      }
      // Resolves when the stream has handed the text on (to the OS, for files).
      const done = written(text)
      if (invalid === 0 || report === undefined) return done
      // Reported once written: a retried batch is counted once.
      return done.then(() =>
        report({
          code: 'fields_invalid',
          stage: 'sink',
          message: `${invalid} entries had fields that are not one JSON object on one line (a raw newline or control character, or not JSON): each was written as one line, its fields as the string "${INVALID_FIELDS_KEY}"; fix the producer that sends them`,
          count: invalid,
        }),
      )
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
  create: (opts, ctx) =>
    createStreamSink({
      report: ctx.report,
      stream: opts.stream === 'stderr' ? process.stderr : process.stdout,
      format: {
        format: opts.format,
        ...(opts.template === undefined ? {} : { template: opts.template }),
        ...(opts.colors === undefined ? {} : { colors: opts.colors }),
      },
    }),
})
