// A brand on operator functions that may keep an entry past the call that gave
// it (batch, buffer, delay). The runtime checks it on operators it did not get
// from a definition (a user's plain function) to decide whether entries can be
// acknowledged at once or only in order, when what was held comes out.

/** The brand; `Symbol.for` so that two copies of core agree on it. */
export const HOLDS_ENTRIES: unique symbol = Symbol.for('logkit.holdsEntries')

/**
 * Brand `fn` as an operator that holds entries, and return it.
 *
 * @example
 * ```ts
 * const debounced = markHolding((source) => source.pipe(bufferTime(100)))
 * ```
 */
// biome-ignore lint/complexity/noBannedTypes: any function may carry the brand
export function markHolding<F extends Function>(fn: F): F {
  Object.defineProperty(fn, HOLDS_ENTRIES, { value: true, enumerable: false })
  return fn
}

/** True when `fn` was branded by markHolding. */
export function isHolding(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [HOLDS_ENTRIES]?: unknown })[HOLDS_ENTRIES] === true
}
