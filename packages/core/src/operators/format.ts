// `format`: render each entry's line once, in the pipeline, so that every sink
// after it writes `entry.line` instead of formatting again. The formats
// themselves are pure functions in ../format/.

import type { MonoTypeOperatorFunction } from 'rxjs'
import { z } from 'zod'
import type { DiagnosticReporter } from '../diagnostics.js'
import type { LogEntry } from '../entry.js'
import {
  createFormatter,
  type FormatterOptions,
  formatJson,
  formatNames,
  INVALID_FIELDS_KEY,
  TEMPLATE_PLACEHOLDERS,
  textFormatter,
} from '../format/index.js'
import type { TimeFormat } from '../format/timestamp.js'
import { defineOperator, PLUGIN_API_VERSION } from '../plugin.js'
import { mapOrDrop } from './map-or-drop.js'

/** FormatterOptions (`format`, `template`, `colors`, `timeFormat`), and where to report drops. */
export interface FormatOptions extends FormatterOptions {
  /** Told of each entry that could not be formatted (and was dropped), as a `format_failed` diagnostic. */
  readonly report?: DiagnosticReporter | undefined
}

/**
 * Sets each entry's `line`: the entry rendered in the given format, without a
 * trailing newline. The formatter is made once (an unknown template
 * placeholder throws LOGKIT_ERR_FORMAT_TEMPLATE then); an entry that cannot be
 * rendered is dropped and reported, and the stream goes on. In `json`, an
 * entry whose fields are not one well-formed JSON object is written with them
 * as the string `logkit_invalid_fields` and reported as `fields_invalid`.
 *
 * @example
 * ```ts
 * entries$.pipe(format({ format: 'text', template: '{time} {LEVEL} {source}: {msg}' }))
 * // entry.line === '2024-05-01T12:34:56.789Z INFO db: slow query'
 * ```
 *
 * @param options `format` (default `'json'`, or `'text'` when a template is
 * given), `template` (text), `colors` (pretty; default only on a terminal),
 * `timeFormat` (`'utc'` default, or `'local'`), `report`.
 */
export function format(options: FormatOptions = {}): MonoTypeOperatorFunction<LogEntry> {
  const render = createFormatter(options)
  const json = render === formatJson
  const { report } = options
  return mapOrDrop(
    (entry: LogEntry): LogEntry => {
      const line = render(entry)
      if (json && !entry.fields.wellFormed) {
        report?.({
          code: 'fields_invalid',
          message: `format: an entry's fields are not one JSON object on one line; they were written as the string "${INVALID_FIELDS_KEY}" so the line stays one valid JSON line`,
          count: 1,
        })
      }
      return { ...entry, line }
    },
    (error) =>
      report?.({
        code: 'format_failed',
        message: `format could not render an entry (${(error as Error)?.message ?? String(error)}); it was dropped`,
        count: 1,
      }),
  )
}

function knownPlaceholders(template: string): boolean {
  try {
    textFormatter(template)
    return true
  } catch {
    return false
  }
}

/** The manifest's `use: format`. */
export const formatDefinition = defineOperator({
  name: 'format',
  apiVersion: PLUGIN_API_VERSION,
  description: "Render each entry's line: json (pino-compatible), logfmt, text (template) or pretty.",
  options: z
    .strictObject({
      format: z.enum(formatNames, { error: `expected one of ${formatNames.join(', ')}` }).optional(),
      template: z
        .string({ error: "expected a template such as '{time} [{level}] {source}: {msg}'" })
        .refine(knownPlaceholders, {
          error: `unknown placeholder: use ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
        })
        .optional(),
      colors: z.boolean({ error: 'expected true or false' }).optional(),
      timeFormat: z
        .enum(['utc', 'local'] satisfies TimeFormat[], { error: "expected 'utc' or 'local'" })
        .optional(),
    })
    .refine((o) => o.template === undefined || o.format === undefined || o.format === 'text', {
      error: "a template applies only to format 'text'",
      path: ['template'],
    }),
  create: (options, ctx) => format({ ...options, report: ctx.report }),
})
