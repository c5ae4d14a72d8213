// When to try a request again: exponential backoff with full jitter, and
// what servers say about waiting (Retry-After in seconds or as an HTTP date,
// Discord's `retry_after` body field and X-RateLimit-* headers). Pure
// functions of their inputs; the sink caps what they return by
// `retry.maxRetryAfterMs`.

/**
 * Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the
 * n-th retry (from 0) waits a random time in [0, min(max, min·2ⁿ)].
 */
export function backoffMs(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 40))
  return Math.floor(random() * ceiling)
}

/** A Retry-After header: delay-seconds or an HTTP-date, as milliseconds from `now`; undefined when unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // HTTP-date (IMF-fixdate; Date.parse also reads the obsolete forms).
  if (!/[a-z]/i.test(text)) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Discord's 429 body: `{"retry_after": seconds, …}`; undefined when it says nothing usable. */
export function bodyRetryAfterMs(text: string): number | undefined {
  if (!text.includes('retry_after')) return undefined
  try {
    const value = (JSON.parse(text) as { retry_after?: unknown }).retry_after
    return typeof value === 'number' && Number.isFinite(value) && value >= 0
      ? Math.ceil(value * 1000)
      : undefined
  } catch {
    return undefined
  }
}

type Headers = Readonly<Record<string, string | string[] | undefined>>

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/**
 * How long to hold the next request after a response whose X-RateLimit-Remaining
 * is 0: X-RateLimit-Reset-After (seconds, Discord) or X-RateLimit-Reset
 * (epoch seconds); undefined when the bucket is not empty.
 */
export function rateLimitWaitMs(headers: Headers, now: number): number | undefined {
  if (header(headers, 'x-ratelimit-remaining')?.trim() !== '0') return undefined
  const after = Number(header(headers, 'x-ratelimit-reset-after'))
  if (Number.isFinite(after) && after >= 0) return Math.ceil(after * 1000)
  const reset = Number(header(headers, 'x-ratelimit-reset'))
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, Math.ceil(reset * 1000 - now))
  return undefined
}

/** The wait a response asks for before the next attempt: Retry-After on 429 and 503, else Discord's body field, else its rate-limit headers. */
export function serverWaitMs(
  status: number,
  headers: Headers,
  body: string,
  now: number,
): number | undefined {
  if (status === 429 || status === 503) {
    const after = retryAfterMs(header(headers, 'retry-after'), now)
    if (after !== undefined) return after
  }
  if (status === 429) return bodyRetryAfterMs(body) ?? rateLimitWaitMs(headers, now)
  return undefined
}
