// The units options are written in: sizes ('10MiB', '500kB', or bytes),
// durations ('7d', '12h', or milliseconds) and file modes (0o640, '0640').
// Pure functions: the options schema calls them, so do setMinFreeBytes and
// the plain API. Each returns undefined for text it cannot read; the caller
// says what was expected.

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i
const BINARY: Readonly<Record<string, number>> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }
const DECIMAL: Readonly<Record<string, number>> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12 }

/**
 * Bytes from a size: a number of bytes, or text such as '10MiB', '10 MB', '512k'.
 * `KiB`/`MiB`/`GiB`/`TiB` and the bare `K`/`M`/`G`/`T` (logrotate's reading) are
 * powers of 1024; `kB`/`MB`/`GB`/`TB` are powers of 1000; `B` or nothing is bytes.
 */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined
  const m = SIZE.exec(value.trim())
  if (m === null) return undefined
  const n = Number(m[1])
  const unit = (m[2] ?? 'b').toLowerCase()
  if (unit === 'b') return Math.floor(n)
  const prefix = unit[0] as string
  const binary = unit.length === 1 || unit[1] === 'i'
  return Math.floor(n * ((binary ? BINARY : DECIMAL)[prefix] as number))
}

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
