// Wall-clock time in nanoseconds since the epoch, as a BigInt (a JS number
// cannot hold it exactly). Taken from the monotonic clock anchored once to the
// wall clock, so entries of one process never go backwards and keep ns precision.

const anchor = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
/** The same anchor in ms, for nowMs. */
const anchorMs = Number(anchor) / 1e6

/** Now, in nanoseconds since the Unix epoch. */
export function nowNs(): bigint {
  return anchor + process.hrtime.bigint()
}

/** Nanoseconds → milliseconds since the epoch (what pino's `time` holds). */
export function nsToMs(ns: bigint): number {
  // A number holds ns since the epoch to within 256 ns, which decides the
  // millisecond except right at its edges; only there is the exact (and
  // costlier) BigInt division needed.
  const approx = Number(ns)
  const ms = Math.floor(approx / 1e6)
  const within = approx - ms * 1e6
  if (within >= 1024 && within <= 1e6 - 1024 && ns >= 0n) return ms
  return Number(ns / 1_000_000n)
}

/** Milliseconds since the epoch → nanoseconds. */
export function msToNs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6))
}

/** ISO 8601 text with millisecond precision. */
export function nsToIso(ns: bigint): string {
  return new Date(nsToMs(ns)).toISOString()
}

/**
 * Now, in fractional milliseconds since the epoch (sub-microsecond precision),
 * from the monotonic clock: what a producer stamps entries with. The encoder
 * writes it as nanoseconds without a BigInt. process.hrtime() and not
 * performance.now(), which costs the same per call but loads perf_hooks, a
 * few per cent of a worker's start-up.
 */
export function nowMs(): number {
  const [seconds, nanos] = process.hrtime()
  return anchorMs + seconds * 1e3 + nanos / 1e6
}
