// A brand on operator functions that may keep an entry past the call that gave
// it (batch, buffer, delay). The runtime checks it on operators it did not get
// from a definition (a user's plain function) to decide whether entries can be
// acknowledged at once or only in order, when what was held comes out.

/** The brand; `Symbol.for` so that two copies of core agree on it. */
export const HOLDS_ENTRIES: unique symbol = Symbol.for('logkit.holdsEntries')

/**
 * Brand `fn` as an operator that holds entries, and return it. With
 * `emitsOnFlush`, it promises to emit everything it holds, synchronously,
 * whenever the pipeline's `flushes` notifier emits (as `batch` does when given
 * `flush`): the runtime may then count everything issued before a flush as
 * out of the operators. Without it, held entries are acknowledged only in
 * order, as later entries come out, and at close.
 *
 * @example
 * ```ts
 * const sampled = markHolding((source) => source.pipe(bufferTime(100)))
 * ```
 */
// biome-ignore lint/complexity/noBannedTypes: any function may carry the brand
export function markHolding<F extends Function>(
  fn: F,
  { emitsOnFlush = false }: { emitsOnFlush?: boolean } = {},
): F {
  Object.defineProperty(fn, HOLDS_ENTRIES, { value: emitsOnFlush ? 'flush' : true, enumerable: false })
  return fn
}

/** True when `fn` was branded by markHolding. */
export function isHolding(fn: unknown): boolean {
  const brand = typeof fn === 'function' ? (fn as { [HOLDS_ENTRIES]?: unknown })[HOLDS_ENTRIES] : undefined
  return brand === true || brand === 'flush'
}

/** True when `fn` was branded as emitting everything it holds on each flush. */
export function emitsOnFlush(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [HOLDS_ENTRIES]?: unknown })[HOLDS_ENTRIES] === 'flush'
}

/** The brand of operators that take EntryBatch values as well as entries; `Symbol.for` as above. */
export const TAKES_BATCHES: unique symbol = Symbol.for('logkit.takesBatches')

/**
 * Brand `fn` as an operator that takes EntryBatch values (the collector's
 * entries that are still bytes) besides LogEntry values, and return it. The
 * runtime hands batches only to operators so branded, and unbatches (decodes
 * the entries one by one) in front of every other operator. A branded
 * operator must emit, for a batch, a batch of the same index (or nothing),
 * and must keep order.
 */
// biome-ignore lint/complexity/noBannedTypes: any function may carry the brand
export function markTakesBatches<F extends Function>(fn: F): F {
  Object.defineProperty(fn, TAKES_BATCHES, { value: true, enumerable: false })
  return fn
}

/** True when `fn` was branded by markTakesBatches. */
export function takesBatches(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { [TAKES_BATCHES]?: unknown })[TAKES_BATCHES] === true
}
