// JSON.stringify that never throws: a log call must not fail because of what it
// was given. Circular references become "[Circular]", BigInts their decimal
// text, errors their serialized shape. Only used after the fast path threw.

import { serializeError } from './serialize-error.js'

/** `within`: the object value was taken from, which counts as its ancestor. */
export function safeStringify(value: unknown, within?: object): string {
  try {
    return JSON.stringify(value)
  } catch {
    const ancestors: unknown[] = []
    return JSON.stringify(value, function (this: unknown, _key, v: unknown) {
      if (typeof v === 'bigint') return v.toString()
      if (v instanceof Error) v = serializeError(v)
      if (v === null || typeof v !== 'object') return v
      if (v === within) return '[Circular]'
      // `this` is the object holding v: drop ancestors that are not on v's path.
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop()
      if (ancestors.includes(v)) return '[Circular]'
      ancestors.push(v)
      return v
    })
  }
}
