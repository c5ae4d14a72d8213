// The line formats, as pure functions of an entry: the `format` operator maps
// entries through them, and sinks that write lines call createFormatter
// themselves.

import type { LogEntry } from '../entry.js'
import { LogkitError } from '../errors.js'
import { formatJson } from './json.js'
import { logfmtFormatter } from './logfmt.js'
import { prettyFormatter } from './pretty.js'
import { textFormatter } from './text.js'
import type { TimeFormat } from './timestamp.js'

export { formatJson, INVALID_FIELDS_KEY } from './json.js'
export { JsonLineWriter } from './json-bytes.js'
export { entryFromJsonLine } from './json-line.js'
export { logfmtFormatter, logfmtKey, logfmtValue } from './logfmt.js'
export { colorsByDefault, type PrettyOptions, prettyFormatter } from './pretty.js'
export { DEFAULT_TEMPLATE, TEMPLATE_PLACEHOLDERS, textFormatter } from './text.js'
export { clockTime, isoTime, type TimeFormat } from './timestamp.js'

export type FormatName = 'json' | 'logfmt' | 'text' | 'pretty'

/** The names createFormatter knows. */
export const formatNames: readonly FormatName[] = ['json', 'logfmt', 'text', 'pretty']

export interface FormatterOptions {
  /** Default `'text'` when a template is given, else `'json'`. */
  readonly format?: FormatName | undefined
  /** For `text`: the template, e.g. `'{time} [{level}] {source}: {msg}'` (the default). */
  readonly template?: string | undefined
  /** For `pretty`: ANSI colours (default only when stdout is a terminal). */
  readonly colors?: boolean | undefined
  /** For `logfmt`, `text` and `pretty`: UTC (default) or local time. */
  readonly timeFormat?: TimeFormat | undefined
}

/**
 * A function from an entry to its line (without the newline) in the given
 * format. Throws, when made, for an unknown format, a template with an unknown
 * placeholder (LOGKIT_ERR_FORMAT_TEMPLATE), or a template given with a format
 * other than `text`.
 */
export function createFormatter(options: FormatterOptions = {}): (entry: LogEntry) => string {
  const { template, colors, timeFormat = 'utc' } = options
  const format = options.format ?? (template === undefined ? 'json' : 'text')
  if (template !== undefined && format !== 'text') {
    throw new LogkitError(
      'LOGKIT_ERR_OPTIONS_INVALID',
      `format: a template applies only to format 'text', found format ${JSON.stringify(format)}: drop the template or use format 'text'`,
      { details: { issues: [{ path: ['template'], message: "a template applies only to format 'text'" }] } },
    )
  }
  switch (format) {
    case 'json':
      return formatJson
    case 'logfmt':
      return logfmtFormatter(timeFormat)
    case 'text':
      return textFormatter(template, timeFormat)
    case 'pretty':
      return prettyFormatter({ colors, timeFormat })
    default:
      throw new LogkitError(
        'LOGKIT_ERR_OPTIONS_INVALID',
        `format: unknown format ${JSON.stringify(format)}: use one of ${formatNames.join(', ')}`,
        { details: { issues: [{ path: ['format'], message: `expected one of ${formatNames.join(', ')}` }] } },
      )
  }
}
