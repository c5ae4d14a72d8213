// The options schema: defaults by preset, and refusals with messages that
// never quote a URL or a header value (they are secrets).

import { isLogkitError, optionsJsonSchema, parseSize, validateOptions } from '@logkit/core'
import t from 'tap'
import { DEFAULT_RETRY_ON, webhookSink } from '../src/index.js'

const URL = 'https://hooks.example.com/services/T0SECRET/B0SECRET/XsecretTOKEN'

function refusal(options: unknown): { paths: string[]; message: string } {
  try {
    validateOptions(webhookSink, options)
  } catch (err) {
    if (!isLogkitError(err, 'LOGKIT_ERR_OPTIONS_INVALID')) throw err
    const issues = (err.details?.['issues'] ?? []) as { path: (string | number)[] }[]
    return { paths: issues.map((i) => i.path.join('.')), message: err.message }
  }
  throw new Error('accepted')
}

t.test(
  'defaults: json, POST, 1000 entries, 1 MiB, 1 s, concurrency 1, 10 s, 5 retries on 408/429/5xx but 501',
  async (t) => {
    const c = validateOptions(webhookSink, { url: URL })
    t.match(
      c,
      {
        method: 'POST',
        preset: 'json',
        compression: 'none',
        batch: { maxEntries: 1000, maxBytes: 1024 * 1024, maxWaitMs: 1000 },
        concurrency: 1,
        timeoutMs: 10_000,
        retry: { retries: 5, minDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 },
      },
      'the documented defaults',
    )
    t.same(c.retry.retryOn, DEFAULT_RETRY_ON, 'the default statuses')
    t.ok(
      DEFAULT_RETRY_ON.includes(408) && DEFAULT_RETRY_ON.includes(429) && DEFAULT_RETRY_ON.includes(503),
      '408, 429, 503',
    )
    t.notOk(DEFAULT_RETRY_ON.includes(501) || DEFAULT_RETRY_ON.includes(400), 'not 501, not 400')
    t.equal(
      validateOptions(webhookSink, { url: URL, preset: 'slack' }).batch.maxEntries,
      20,
      'slack: 20 blocks',
    )
    t.equal(
      validateOptions(webhookSink, { url: URL, preset: 'discord' }).batch.maxEntries,
      10,
      'discord: 10 embeds',
    )
    t.same(
      validateOptions(webhookSink, { url: URL, deadLetter: 'dead.ndjson' }).deadLetter,
      { path: 'dead.ndjson', maxBytes: 64 * 1024 * 1024, keep: 3 },
      'a dead-letter path gets its bounds',
    )
    t.match(
      validateOptions(webhookSink, { url: URL, batch: { maxBytes: '256KiB' }, level: 'error' }),
      { batch: { maxBytes: 256 * 1024 }, level: 50 },
      'sizes and levels as text',
    )
  },
)

t.test('refusals name the option, never the URL or a header value', async (t) => {
  const cases: [unknown, string][] = [
    [{ url: 'ftp://x/secret-path' }, 'url'],
    [{ url: 'not a url secret-path' }, 'url'],
    [{ url: URL, preset: 'teams' }, 'preset'],
    [{ url: URL, batch: { maxBytes: -5 } }, 'batch.maxBytes'],
    [{ url: URL, batch: { maxEntries: 0 } }, 'batch.maxEntries'],
    [{ url: URL, batch: { maxWaitMs: -1 } }, 'batch.maxWaitMs'],
    [{ url: URL, concurrency: 0 }, 'concurrency'],
    [{ url: URL, timeoutMs: 0 }, 'timeoutMs'],
    [{ url: URL, retry: { retries: -1 } }, 'retry.retries'],
    [{ url: URL, retry: { retryOn: [99] } }, 'retry.retryOn.0'],
    [{ url: URL, retry: { minDelayMs: 10, maxDelayMs: 5 } }, 'retry.minDelayMs'],
    [{ url: URL, method: 'GET' }, 'method'],
    [{ url: URL, compression: 'zstd' }, 'compression'],
    [{ url: URL, level: 'loud' }, 'level'],
    [{ url: URL, headers: { 'Content-Length': '5' } }, 'headers.Content-Length'],
    [{ url: URL, headers: { 'X-Key': 42 } }, 'headers.X-Key'],
    [{ url: URL, auth: { token: 'secret-token' } }, 'auth'],
    [{ url: URL, preset: 'slack', template: '{{entries}}' }, 'template'],
    [{ url: URL, template: '{"a": 1}' }, 'template'],
    [{ url: URL, template: '{"a": {{entries}}' }, 'template'],
    [{ url: URL, deadLetter: { path: 'x', keep: 0 } }, 'deadLetter.keep'],
    [{ url: URL, deadLetter: { path: 'x', maxBytes: '257MiB' } }, 'deadLetter.maxBytes'],
    [{ url: URL, deadLetter: 'logs/' }, 'deadLetter'],
    [{ url: URL, colour: 'red' }, ''],
  ]
  for (const [options, path] of cases) {
    const { paths, message } = refusal(options)
    if (path.startsWith('deadLetter.')) t.ok(paths.includes(path), `exactly at ${path} (${paths.join(', ')})`)
    t.ok(
      paths.some((p) => p === path || p.startsWith(`${path}.`) || (path === '' && p === '')),
      `${JSON.stringify(options).replace(URL, 'URL')} is refused at "${path}" (${paths.join(', ')})`,
    )
    t.notMatch(message, /secret-path|T0SECRET|XsecretTOKEN|secret-token/, 'without quoting a secret')
  }
})

t.test('a bad deadLetter bound is reported at its own key, with its own message', async (t) => {
  const { paths, message } = refusal({ url: URL, deadLetter: { maxBytes: -5 } })
  t.ok(
    paths.includes('deadLetter.maxBytes'),
    `maxBytes: -5 is reported at deadLetter.maxBytes (${paths.join(', ')})`,
  )
  t.ok(paths.includes('deadLetter.path'), 'and the missing path at deadLetter.path')
  t.match(message, /dead-letter file size of at least 1 byte/, 'with the size message, not the union one')
  t.same(
    validateOptions(webhookSink, { url: URL, deadLetter: { path: 'd', maxBytes: '256MiB', keep: 2 } })
      .deadLetter,
    { path: 'd', maxBytes: 256 * 1024 ** 2, keep: 2 },
    '256MiB, the documented maximum, is accepted',
  )
})

t.test('a template with {{entries}} is accepted for json and ndjson', async (t) => {
  t.ok(validateOptions(webhookSink, { url: URL, template: '{"events":{{entries}}}' }), 'json')
  t.ok(validateOptions(webhookSink, { url: URL, preset: 'ndjson', template: 'x{{entries}}y' }), 'ndjson')
})

t.test('JSON Schema for editors describes every option', async (t) => {
  const schema = optionsJsonSchema(webhookSink) as { properties: Record<string, { description?: string }> }
  t.same(
    Object.keys(schema.properties).sort(),
    [
      'auth',
      'batch',
      'compression',
      'concurrency',
      'deadLetter',
      'headers',
      'level',
      'method',
      'preset',
      'retry',
      'template',
      'timeoutMs',
      'url',
    ],
    'every option',
  )
  t.ok(schema.properties['url']?.description, 'with descriptions')
  t.match(
    schema.properties['deadLetter'],
    {
      type: ['string', 'object'],
      properties: { path: {}, maxBytes: {}, keep: {} },
      additionalProperties: false,
    },
    'deadLetter: a path, or the object of its bounds',
  )
})

t.test('parseSize reads bytes and binary and decimal units', async (t) => {
  const cases: [number | string, number | undefined][] = [
    [1234, 1234],
    ['1MiB', 2 ** 20],
    ['1 MB', 1e6],
    ['64M', 64 * 2 ** 20],
    ['512kB', 512_000],
    ['100b', 100],
    ['1.5KiB', 1536],
    [-1, undefined],
    ['ten', undefined],
    ['10XB', undefined],
  ]
  for (const [input, want] of cases) t.equal(parseSize(input), want, `${JSON.stringify(input)} → ${want}`)
})
