// Text lines from a template: `{time} [{level}] {source}: {msg}`. The template
// is parsed once into literal text and getters; an unknown placeholder is a
// configuration error raised when the formatter is made, not per entry.

import type { LogEntry } from '../entry.js'
import { LogkitError } from '../errors.js'
import { levelName } from '../levels.js'
import { isoTime, type TimeFormat } from './timestamp.js'

/** The template used when none is given. */
export const DEFAULT_TEMPLATE = '{time} [{level}] {source}: {msg}'

type Getter = (entry: LogEntry) => string

/** Every placeholder but `fields.<path>`, by name. */
function placeholders(timeFormat: TimeFormat): Readonly<Record<string, Getter>> {
  return {
    time: (e) => isoTime(e.time, timeFormat),
    level: (e) => levelName(e.level),
    LEVEL: (e) => levelName(e.level).toUpperCase(),
    msg: (e) => e.msg,
    app: (e) => e.app,
    source: (e) => e.source,
    pid: (e) => String(e.pid),
    hostname: (e) => e.hostname,
    seq: (e) => String(e.seq),
    traceId: (e) => e.traceId ?? '',
    spanId: (e) => e.spanId ?? '',
    fields: (e) => e.fields.json,
  }
}

/** The names a template may use, for messages and docs. */
export const TEMPLATE_PLACEHOLDERS: readonly string[] = [...Object.keys(placeholders('utc')), 'fields.<path>']

function fieldGetter(path: readonly string[]): Getter {
  return (entry) => {
    const value = entry.fields.get(path)
    return value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  }
}

// `{name}` with no brace inside; any other brace is literal text.
const PLACEHOLDER = /\{([^{}]*)\}/g

/**
 * A formatter for `template`. Placeholders: `{time}` (ISO 8601), `{level}`,
 * `{LEVEL}`, `{msg}`, `{app}`, `{source}`, `{pid}`, `{hostname}`, `{seq}`,
 * `{traceId}`, `{spanId}`, `{fields}` (the fields as JSON) and
 * `{fields.some.path}` (a string as is, anything else as JSON, '' when absent).
 * Throws LOGKIT_ERR_FORMAT_TEMPLATE for any other `{…}`.
 */
export function textFormatter(
  template: string = DEFAULT_TEMPLATE,
  timeFormat: TimeFormat = 'utc',
): (entry: LogEntry) => string {
  const named = placeholders(timeFormat)
  const parts: (string | Getter)[] = []
  let at = 0
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = (match[1] ?? '').trim()
    let getter = Object.hasOwn(named, name) ? named[name] : undefined
    if (getter === undefined && name.startsWith('fields.') && name.length > 'fields.'.length) {
      const path = name.slice('fields.'.length).split('.')
      if (!path.includes('')) getter = fieldGetter(path)
    }
    if (getter === undefined) {
      throw new LogkitError(
        'LOGKIT_ERR_FORMAT_TEMPLATE',
        `text template ${JSON.stringify(template)} has an unknown placeholder {${match[1]}} at position ${match.index}: use one of ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
        { details: { template, placeholder: match[1], index: match.index } },
      )
    }
    if (match.index > at) parts.push(template.slice(at, match.index))
    parts.push(getter)
    at = match.index + match[0].length
  }
  if (at < template.length) parts.push(template.slice(at))
  return (entry) => {
    let line = ''
    for (const part of parts) line += typeof part === 'string' ? part : part(entry)
    return line
  }
}
