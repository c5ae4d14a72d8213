// Sizes as options take them: bytes, or text such as '1MiB', '500kB', '64M'.
// The same reading as the file sink's sizes (KiB/MiB and bare K/M are powers
// of 1024, kB/MB powers of 1000); undefined for text it cannot read.

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i
const POWER: Readonly<Record<string, number>> = { k: 1, m: 2, g: 3, t: 4 }

/** Bytes from a number of bytes or a size text; undefined when it is neither. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined
  const m = SIZE.exec(value.trim())
  if (m === null) return undefined
  const unit = (m[2] ?? 'b').toLowerCase()
  const power = POWER[unit[0] as string]
  if (power === undefined) return Math.floor(Number(m[1]))
  const binary = unit.length === 1 || unit[1] === 'i'
  return Math.floor(Number(m[1]) * (binary ? 1024 : 1000) ** power)
}
