// For tests with real processes: wait, polling, until something has happened.
// A timeout here is a bound on waiting, never a performance assertion.

/** Resolves with `check()`'s value once it is truthy; rejects naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
