// Marble tests for operators on LogEntry. `marbles(t)` is an RxJS TestScheduler
// whose frames are compared with the test's own deep equality (tap's
// `t.same`) after normalising entries to plain data: Fields keeps its data in
// #private fields, which no deep-equality walk can see, so two entries with
// different fields would compare equal unless fields are replaced by their
// value. `time` becomes its decimal string (bigint-safe in diffs) and the
// runtime's `ack` reference is left out.

import { TestScheduler } from 'rxjs/testing'
import { createEntry, type EntryInit, type LogEntry } from '../entry.js'
import { Fields } from '../fields.js'

/** The part of a test object marbles() uses: tap's `t`, node:test's `assert` with a `same` shim, … */
export interface DeepEqualAssert {
  same(found: unknown, wanted: unknown, message: string): unknown
}

function isEntry(value: object): value is LogEntry {
  const v = value as Partial<LogEntry>
  return typeof v.time === 'bigint' && v.fields instanceof Fields
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * `value` as plain data for comparison: entries (anywhere inside arrays and
 * plain objects) with `fields` as their parsed value, `time` as a decimal
 * string, `ack` and undefined properties left out; Fields as their value.
 */
export function normalizeForCompare(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Fields) return value.value
  if (Array.isArray(value)) return value.map(normalizeForCompare)
  if (isEntry(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(value)) {
      if (key === 'ack' || v === undefined) continue
      out[key] = key === 'time' ? String(v) : key === 'fields' ? (v as Fields).value : normalizeForCompare(v)
    }
    return out
  }
  if (!isPlain(value)) return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) out[key] = normalizeForCompare(v)
  return out
}

/**
 * A TestScheduler for one subtest, asserting with `t.same` on normalised
 * frames. Make one per subtest and use `run()`: inside it, asyncScheduler (the
 * operators' default) runs in virtual time.
 *
 * @example
 * ```ts
 * t.test('filter drops entries below the level', (t) => {
 *   marbles(t).run(({ cold, expectObservable }) => {
 *     const source = cold('-a-b|', values)
 *     expectObservable(source.pipe(filter({ level: 'warn' }))).toBe('---b|', values)
 *   })
 *   t.end()
 * })
 * ```
 *
 * @param t The test, for its `same` assertion.
 * @param message The assertion's message. Default: 'emits the expected marble frames'.
 */
export function marbles(t: DeepEqualAssert, message = 'emits the expected marble frames'): TestScheduler {
  return new TestScheduler((actual, expected) => {
    t.same(normalizeForCompare(actual), normalizeForCompare(expected), message)
  })
}

/** 2024-05-01T12:34:56.789Z, the time of test entries unless given. */
export const TEST_TIME = 1_714_566_896_789_000_000n
/** The pid of test entries unless given. */
export const TEST_PID = 4242

/** An entry for tests: createEntry with a fixed time and pid, so that expected values can be written down. */
export function testEntry(init: EntryInit = {}): LogEntry {
  return createEntry({ time: TEST_TIME, pid: TEST_PID, ...init })
}

/**
 * A marble value map of test entries: `testEntries({ a: 'hello', b: { level: 50, msg: 'boom' } })`.
 * A string is shorthand for `{ msg }`.
 */
export function testEntries<K extends string>(
  inits: Readonly<Record<K, EntryInit | string>>,
): Record<K, LogEntry> {
  const out = {} as Record<K, LogEntry>
  for (const key of Object.keys(inits) as K[]) {
    const init = inits[key]
    out[key] = testEntry(typeof init === 'string' ? { msg: init } : init)
  }
  return out
}
