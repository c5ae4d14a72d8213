// The pure parts of retrying: full-jitter backoff, Retry-After (seconds and
// HTTP date), Discord's retry_after and X-RateLimit-* headers.

import t from 'tap'
import {
  backoffMs,
  bodyRetryAfterMs,
  rateLimitWaitMs,
  retryAfterMs,
  serverWaitMs,
} from '../src/retry-policy.js'

t.test('backoff: full jitter, within [0, min(max, min·2ⁿ)]', async (t) => {
  t.equal(
    backoffMs(0, 100, 5000, () => 0.999999),
    99,
    'first retry: up to min',
  )
  t.equal(
    backoffMs(3, 100, 5000, () => 0.5),
    400,
    'doubling each retry',
  )
  t.equal(
    backoffMs(30, 100, 5000, () => 0.999999),
    4999,
    'capped at max',
  )
  t.equal(
    backoffMs(5, 100, 5000, () => 0),
    0,
    'down to 0 (full jitter)',
  )
  t.equal(
    backoffMs(1e6, 100, 5000, () => 0.5),
    2500,
    'no overflow for huge attempts',
  )
})

t.test('Retry-After in seconds or as an HTTP date', async (t) => {
  const now = Date.parse('2025-01-01T00:00:00Z')
  t.equal(retryAfterMs('2', now), 2000, 'seconds')
  t.equal(retryAfterMs(' 120 ', now), 120_000, 'with spaces')
  t.equal(retryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000, 'an IMF date')
  t.equal(retryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now), 0, 'a past date: at once')
  t.equal(retryAfterMs('soon', now), undefined, 'unreadable')
  t.equal(retryAfterMs('-1', now), undefined, 'negative')
  t.equal(retryAfterMs('1.5', now), undefined, 'not delay-seconds')
  t.equal(retryAfterMs(undefined, now), undefined, 'absent')
})

t.test("Discord's retry_after and X-RateLimit-*", async (t) => {
  t.equal(bodyRetryAfterMs('{"retry_after": 1.234, "global": false}'), 1234, 'seconds with a fraction')
  t.equal(bodyRetryAfterMs('{"retry_after": "x"}'), undefined, 'not a number')
  t.equal(bodyRetryAfterMs('retry_after: 1'), undefined, 'not JSON')
  t.equal(bodyRetryAfterMs('{}'), undefined, 'absent')
  t.equal(
    rateLimitWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '0.25' }, 0),
    250,
    'reset-after',
  )
  t.equal(
    rateLimitWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '10' }, 9000),
    1000,
    'reset (epoch s)',
  )
  t.equal(
    rateLimitWaitMs({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset-after': '1' }, 0),
    undefined,
    'not empty',
  )
  t.equal(rateLimitWaitMs({ 'x-ratelimit-remaining': '0' }, 0), undefined, 'empty, no reset known')
})

t.test('which wait a response asks for', async (t) => {
  t.equal(serverWaitMs(429, { 'retry-after': '3' }, '', 0), 3000, '429 + Retry-After')
  t.equal(serverWaitMs(503, { 'retry-after': '3' }, '', 0), 3000, '503 + Retry-After')
  t.equal(serverWaitMs(500, { 'retry-after': '3' }, '', 0), undefined, 'not on a 500')
  t.equal(serverWaitMs(429, {}, '{"retry_after":0.5}', 0), 500, '429 + Discord body')
  t.equal(
    serverWaitMs(429, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': '2' }, '', 0),
    2000,
    '429 + rate-limit headers',
  )
  t.equal(serverWaitMs(503, {}, '', 0), undefined, '503 with nothing: backoff')
})
