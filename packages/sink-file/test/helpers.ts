// Shared test helpers: entries, a manual clock, and readers that see a log
// folder the way a user would (rotated files oldest first, .gz decompressed,
// the live file last).

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { Diagnostic } from '@logkit/core'
import { createEntry, type LogEntry } from '@logkit/core'

export function entries(n: number, from = 1, msg = 'entry'): LogEntry[] {
  return Array.from({ length: n }, (_, i) =>
    createEntry({
      msg: `${msg} ${from + i}`,
      seq: from + i,
      app: 'test',
      source: 'suite',
      fields: { i: from + i },
    }),
  )
}

/** A clock the test moves by hand. */
export function manualClock(start: number | string) {
  let now = typeof start === 'string' ? Date.parse(start) : start
  return {
    now: () => now,
    set(to: number | string) {
      now = typeof to === 'string' ? Date.parse(to) : to
    },
    advance(ms: number) {
      now += ms
    },
  }
}

/** Collects diagnostics; `next(code)` resolves at the first one of that code (past or future). */
export function diagnostics() {
  const seen: Omit<Diagnostic, 'stage' | 'component'>[] = []
  const waiting: { code: string; resolve: () => void }[] = []
  return {
    seen,
    report: (d: Omit<Diagnostic, 'stage' | 'component'>) => {
      seen.push(d)
      for (const w of waiting.filter((w) => w.code === d.code)) w.resolve()
    },
    codes: () => seen.map((d) => d.code),
    next: (code: string) =>
      seen.some((d) => d.code === code)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiting.push({ code, resolve })),
  }
}

const ROTATED = /^(.+)\.(\d{4}-\d{2}-\d{2}(?:T\d{2})?)\.([1-9]\d*)(\.[^.]+)?(\.gz)?$/

/** Rotated files of `path` (by the documented naming), oldest first, with .gz preferred over a leftover original. */
export function rotatedFiles(path: string): string[] {
  const dir = dirname(path)
  const file = basename(path)
  const dot = file.lastIndexOf('.')
  const base = dot > 0 ? file.slice(0, dot) : file
  const ext = dot > 0 ? file.slice(dot) : ''
  const found = new Map<string, { key: string; index: number; name: string }>()
  for (const name of readdirSync(dir)) {
    const m = ROTATED.exec(name)
    if (m === null || m[1] !== base || (m[4] ?? '') !== ext) continue
    const id = `${m[2]}.${m[3]}`
    if (found.has(id) && !name.endsWith('.gz')) continue
    found.set(id, { key: m[2] as string, index: Number(m[3]), name })
  }
  return [...found.values()]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index))
    .map((f) => join(dir, f.name))
}

/** A file's text, decompressed if it is a .gz. */
export function readText(path: string): string {
  const raw = readFileSync(path)
  return path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8')
}

/** Lines of a file (no trailing empty line); throws if the file does not end with a newline. */
export function linesOf(path: string): string[] {
  const text = readText(path)
  if (text === '') return []
  if (!text.endsWith('\n')) throw new Error(`${path} does not end with a newline`)
  return text.slice(0, -1).split('\n')
}

/** Every line of the rotated files, oldest first, then of the live file. */
export function allLines(path: string): string[] {
  const files = [...rotatedFiles(path), ...(existsSync(path) ? [path] : [])]
  return files.flatMap(linesOf)
}

export function messages(path: string): string[] {
  return allLines(path).map((line) => (JSON.parse(line) as { msg: string }).msg)
}
