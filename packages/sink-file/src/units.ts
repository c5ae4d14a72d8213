// The units options are written in: sizes ('10MiB', '500kB', or bytes),
// durations ('7d', '12h', or milliseconds) and file modes (0o640, '0640').
// Pure functions: the options schema calls them, so do setMinFreeBytes and
// the plain API. Each returns undefined for text it cannot read; the caller
// says what was expected.

// Sizes are read as every plugin reads them (core's parseSize).
export { parseSize } from '@logkit/core'

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/
const MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/** Milliseconds from a duration: a number of milliseconds, or text such as '7d', '12h', '30m', '1w'. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  const m = DURATION.exec(value.trim())
  if (m === null) return undefined
  return Number(m[1]) * (MS[m[2] as string] as number)
}

/**
 * A permission mode from a number (0o640, i.e. 416) or octal text ('0640',
 * '0o640', '640'). YAML reads a bare `0640` as decimal 640, which is why text is
 * read as octal and a number above 0o777 is refused.
 */
export function parseMode(value: number | string): number | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value <= 0o777 ? value : undefined
  const m = /^(?:0o?)?([0-7]{1,3})$/i.exec(value.trim())
  return m === null ? undefined : Number.parseInt(m[1] as string, 8)
}
