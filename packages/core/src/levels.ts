// Levels as pino numbers them, and the OpenTelemetry severity numbers they map to.

import { LogkitError } from './errors.js'

export const levels = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const

export type LevelName = keyof typeof levels
/** A pino level number (10 … 60); other numbers are allowed between them, as in pino. */
export type LevelNumber = number

export const levelNames: readonly LevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

/** OpenTelemetry severity numbers of the six named levels. */
export const severityNumbers: Readonly<Record<LevelName, number>> = {
  trace: 1,
  debug: 5,
  info: 9,
  warn: 13,
  error: 17,
  fatal: 21,
}

/** pino level number → OpenTelemetry severity number. In-between numbers map to their band's base. */
export function levelToSeverity(level: LevelNumber): number {
  if (level >= 60) return 21
  if (level < 10) return 0
  return 1 + Math.floor((level - 10) / 10) * 4
}

/** OpenTelemetry severity number → pino level number (each band of four maps to one level). */
export function severityToLevel(severity: number): LevelNumber {
  if (severity <= 0) return 0
  if (severity >= 21) return 60
  return 10 + Math.floor((severity - 1) / 4) * 10
}

/** The name of a level number: the highest named level not above it ('trace' below 10). */
export function levelName(level: LevelNumber): LevelName {
  for (let i = levelNames.length - 1; i > 0; i--) {
    const name = levelNames[i] as LevelName
    if (level >= levels[name]) return name
  }
  return 'trace'
}

/** A level given by name ('info', case-insensitive) or number (30) → its number. */
export function parseLevel(level: LevelName | LevelNumber | string): LevelNumber {
  if (typeof level === 'number') {
    if (Number.isInteger(level) && level >= 0 && level <= 100) return level
  } else {
    // An own-property check: 'constructor', '__proto__' or 'toString' are text, not levels.
    const name = level.toLowerCase()
    if (Object.hasOwn(levels, name)) return levels[name as LevelName]
    if (/^\d+$/.test(level)) return parseLevel(Number(level))
  }
  throw new LogkitError(
    'LOGKIT_ERR_LEVEL_UNKNOWN',
    `unknown level ${JSON.stringify(level)}: expected one of ${levelNames.join(', ')} or a number from 0 to 100`,
  )
}
