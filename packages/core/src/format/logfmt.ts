// logfmt lines (`time=… level=info source=db msg="slow query" took_ms=812`),
// quoted as go-logfmt does: a value is quoted when it contains a space, `=`,
// `"` or a control character (backslash escapes inside the quotes), the string
// "null" is quoted to tell it from null, and an empty value is written bare
// (`key=`). Nested fields are flattened with dots, array items by index
// (`tags.0=a`).

import type { LogEntry } from '../entry.js'
import { levelName } from '../levels.js'
import { isoTime, type TimeFormat } from './timestamp.js'

// A space, '=', '"', any control character, DEL, or a lone surrogate (with the u flag a pair is one
// code point, so \p{Cs} matches only surrogates that stand alone).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be quoted
const NEEDS_QUOTES = /[\u0000-\u0020="\u007f]|\p{Cs}/u
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters cannot appear in a key
const BAD_KEY_CHARS = /[\u0000-\u0020="\u007f]/g

/** A value as logfmt writes it: bare when it can be, else a JSON-style quoted string. */
export function logfmtValue(text: string): string {
  if (text === 'null' || NEEDS_QUOTES.test(text)) return JSON.stringify(text)
  return text
}

/** A key as logfmt allows it: spaces, `=`, `"` and control characters become `_`; never empty. */
export function logfmtKey(key: string): string {
  const clean = key.replace(BAD_KEY_CHARS, '_')
  return clean === '' ? '_' : clean
}

function pushValue(out: string[], key: string, value: unknown): void {
  if (value === null) {
    out.push(logfmtKey(key) + '=null')
  } else if (typeof value === 'string') {
    out.push(logfmtKey(key) + '=' + logfmtValue(value))
  } else if (typeof value === 'object') {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value)
    if (entries.length === 0) out.push(logfmtKey(key) + '=' + (Array.isArray(value) ? '[]' : '{}'))
    for (const [k, v] of entries) pushValue(out, key + '.' + k, v)
  } else if (value !== undefined) {
    out.push(logfmtKey(key) + '=' + logfmtValue(String(value)))
  }
}

/**
 * A logfmt formatter: `time=<iso> level=<name> app=… source=… msg="…"`, then
 * `trace_id`/`span_id` when present, then the fields. `app` and `source` are
 * left out when empty.
 */
export function logfmtFormatter(timeFormat: TimeFormat = 'utc'): (entry: LogEntry) => string {
  return (entry) => {
    const out = ['time=' + isoTime(entry.time, timeFormat), 'level=' + levelName(entry.level)]
    if (entry.app !== '') out.push('app=' + logfmtValue(entry.app))
    if (entry.source !== '') out.push('source=' + logfmtValue(entry.source))
    out.push('msg=' + logfmtValue(entry.msg))
    if (entry.traceId) out.push('trace_id=' + logfmtValue(entry.traceId))
    if (entry.spanId) out.push('span_id=' + logfmtValue(entry.spanId))
    if (!entry.fields.isEmpty) for (const [k, v] of Object.entries(entry.fields.value)) pushValue(out, k, v)
    return out.join(' ')
  }
}
