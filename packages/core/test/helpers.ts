// Shared test helpers: a seeded random source and entry generators.

import { createEntry, type LogEntry } from '../src/entry.js'
import { Fields } from '../src/fields.js'

export { seededRandom as random } from '../src/testing/random.js'

const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '\n', 'é', 'ß', '✓', '日本', '🎉', '\u0000', '{', '}']

export function randomString(rnd: () => number, max: number): string {
  const n = Math.floor(rnd() * max)
  let s = ''
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)]
  return s
}

export function randomJson(rnd: () => number, depth = 0): unknown {
  const pick = rnd()
  if (depth > 3 || pick < 0.3) {
    const kind = Math.floor(rnd() * 5)
    if (kind === 0) return randomString(rnd, 12)
    if (kind === 1) return Math.floor(rnd() * 1e9) - 5e8
    if (kind === 2) return rnd() * 1000
    if (kind === 3) return rnd() < 0.5
    return null
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(rnd() * 4) }, () => randomJson(rnd, depth + 1))
  const obj: Record<string, unknown> = {}
  for (let i = Math.floor(rnd() * 5); i > 0; i--)
    obj[randomString(rnd, 6) || 'k'] = randomJson(rnd, depth + 1)
  return obj
}

export function randomEntry(rnd: () => number, seq: number): LogEntry {
  const fields: Record<string, unknown> = {}
  for (let i = Math.floor(rnd() * 4); i > 0; i--) fields[`f${i}${randomString(rnd, 3)}`] = randomJson(rnd)
  if (rnd() < 0.05) fields['big'] = 'x'.repeat(Math.floor(rnd() * 200_000))
  return createEntry({
    time: BigInt(Math.floor(rnd() * 2 ** 31)) * 1_000_000_000n + BigInt(Math.floor(rnd() * 1e9)),
    level: [10, 20, 30, 40, 50, 60][Math.floor(rnd() * 6)] as number,
    msg: randomString(rnd, 60),
    app: randomString(rnd, 8),
    source: randomString(rnd, 8),
    pid: Math.floor(rnd() * 4_000_000),
    hostname: randomString(rnd, 10),
    seq,
    fields: Fields.of(fields),
    ...(rnd() < 0.3 ? { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' } : {}),
  })
}

/** An entry as plain data, for deep comparison (Fields keeps its data private). */
export function plain(entry: LogEntry): Record<string, unknown> {
  const { ack: _ack, fields, time, ...rest } = entry
  return { ...rest, time: time.toString(), fields: fields.value }
}
