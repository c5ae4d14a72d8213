// Names of rotated files and the periods they belong to.
//
//   logs/app.log                    the live file, always at `path`
//   logs/app.2026-11-22.1.log       rotated: <base>.<period key>.<n><ext>
//   logs/app.2026-11-22T13.2.log    hourly periods carry the hour
//   logs/app.2026-11-22.3.log.gz    compressed
//   logs/app.2026-11-22.3.log.gz.partial   being compressed (removed at start)
//
// Names sort by period, then by n (numerically: `ls -v`, or sortRotated). The
// pattern is matched strictly, so retention never touches a file this sink
// would not have named.

import { basename, dirname, extname, join } from 'node:path'

export type Interval = 'daily' | 'hourly'
export type TimeZone = 'utc' | 'local'

/** A file this sink rotated, parsed from its name. */
export interface RotatedName {
  readonly name: string
  /** Period key: 'YYYY-MM-DD' or 'YYYY-MM-DDTHH'. */
  readonly key: string
  readonly index: number
  readonly compressed: boolean
  /** A compression left unfinished (`.gz.partial`). */
  readonly partial: boolean
}

/** How rotated names are made and recognised for one log path. */
export interface Naming {
  readonly dir: string
  /** The live file's name, e.g. 'app.log'. */
  readonly file: string
  rotated(key: string, index: number): string
  parse(name: string): RotatedName | undefined
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export function namingFor(path: string): Naming {
  const dir = dirname(path)
  const file = basename(path)
  const ext = extname(file)
  const base = file.slice(0, file.length - ext.length)
  const pattern = new RegExp(
    `^${escapeRegExp(base)}\\.(\\d{4}-\\d{2}-\\d{2}(?:T\\d{2})?)\\.([1-9]\\d{0,8})${escapeRegExp(ext)}(\\.gz(\\.partial)?)?$`,
  )
  return {
    dir,
    file,
    rotated: (key, index) => `${base}.${key}.${index}${ext}`,
    parse(name) {
      const m = pattern.exec(name)
      if (m === null) return undefined
      return {
        name,
        key: m[1] as string,
        index: Number(m[2]),
        compressed: m[3] !== undefined,
        partial: m[4] !== undefined,
      }
    },
  }
}

/** Oldest first: by period key, then by index. */
export function compareRotated(a: RotatedName, b: RotatedName): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index
}

/** The path of the history file of a log path (`logkit tail` reads it). */
export function historyPathOf(path: string): string {
  return join(dirname(path), `${basename(path)}.history.jsonl`)
}

const pad = (n: number) => String(n).padStart(2, '0')

/** The start of the period `ms` falls in, and the start of the next one. */
export function periodOf(ms: number, interval: Interval, zone: TimeZone): { start: number; end: number } {
  const d = new Date(ms)
  if (zone === 'utc') {
    const size = interval === 'daily' ? 86_400_000 : 3_600_000
    const start = Math.floor(ms / size) * size
    return { start, end: start + size }
  }
  // Local days are 23 to 25 hours long across DST changes: let Date do the arithmetic.
  const y = d.getFullYear()
  const mo = d.getMonth()
  const day = d.getDate()
  if (interval === 'daily') {
    return { start: new Date(y, mo, day).getTime(), end: new Date(y, mo, day + 1).getTime() }
  }
  // A local hour starts where the local minutes are 0, even in zones offset by 30 or 45 minutes.
  const start = ms - (d.getMinutes() * 60_000 + d.getSeconds() * 1000 + d.getMilliseconds())
  return { start, end: start + 3_600_000 }
}

/** The key naming the period that starts at or contains `ms`: 'YYYY-MM-DD', or 'YYYY-MM-DDTHH' for hourly. */
export function periodKey(ms: number, interval: Interval, zone: TimeZone): string {
  const d = new Date(ms)
  const utc = zone === 'utc'
  const day = `${utc ? d.getUTCFullYear() : d.getFullYear()}-${pad((utc ? d.getUTCMonth() : d.getMonth()) + 1)}-${pad(utc ? d.getUTCDate() : d.getDate())}`
  return interval === 'daily' ? day : `${day}T${pad(utc ? d.getUTCHours() : d.getHours())}`
}
