// Human-readable lines in the manner of pino-pretty, one per entry:
//
//   12:34:56.789 INFO  db (4242): slow query {"took_ms":812}
//
// time of day, level (padded so messages line up), source, pid, message, then
// the fields as the compact JSON they arrived as. Colours are ANSI SGR codes,
// by level as pino-pretty colours them.

import type { LogEntry } from '../entry.js'
import { type LevelName, levelName } from '../levels.js'
import { clockTime, type TimeFormat } from './timestamp.js'

const RESET_FG = '\u001b[39m'
const RESET_ALL = '\u001b[0m'
const GRAY = '\u001b[90m'

/** The colour of each level's label. */
const LEVEL_COLORS: Readonly<Record<LevelName, string>> = {
  trace: GRAY,
  debug: '\u001b[34m',
  info: '\u001b[32m',
  warn: '\u001b[33m',
  error: '\u001b[31m',
  fatal: '\u001b[41m',
}

export interface PrettyOptions {
  /** ANSI colours. Default: only when stdout is a terminal and NO_COLOR is not set. */
  readonly colors?: boolean | undefined
  /** Time of day in UTC (default) or local time. */
  readonly timeFormat?: TimeFormat | undefined
}

/** True when stdout is a terminal and the user has not asked for no colour (https://no-color.org). */
export function colorsByDefault(): boolean {
  return process.stdout.isTTY === true && !process.env['NO_COLOR']
}

/** A pretty formatter: `HH:MM:ss.mmm LEVEL source (pid): msg {fields}`. */
export function prettyFormatter({
  colors = colorsByDefault(),
  timeFormat = 'utc',
}: PrettyOptions = {}): (entry: LogEntry) => string {
  return (entry) => {
    const name = levelName(entry.level)
    const label = name.toUpperCase()
    // Padded to five (INFO, WARN) outside the colour, so that messages line up.
    const padding = name.length < 5 ? ' ' : ''
    let line = clockTime(entry.time, timeFormat) + ' '
    line += colors
      ? LEVEL_COLORS[name] + label + (name === 'fatal' ? RESET_ALL : RESET_FG) + padding
      : label + padding
    line += ' ' + (entry.source === '' ? '' : entry.source + ' ') + '(' + entry.pid + '): ' + entry.msg
    if (!entry.fields.isEmpty)
      line += ' ' + (colors ? GRAY + entry.fields.json + RESET_FG : entry.fields.json)
    return line
  }
}
