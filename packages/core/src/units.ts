// Sizes as options take them: a number of bytes, or text such as '10MiB',
// '500kB', '512k'. One reading for every plugin (the file sink's rotate size,
// the webhook's batch and dead-letter sizes). Pure; undefined for text it
// cannot read: the caller says what was expected.

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
