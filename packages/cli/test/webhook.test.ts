// `use: webhook` in a manifest: validate reports a bad URL, an unknown preset
// and a negative size at their line and column without showing a secret; the
// webhook's own `retry` (with retryOn) is its option while `retry` stays the
// runtime's for other sinks; and `logkit replay` sends a dead-letter file
// again against a real HTTP server, leaving nothing delivered in it.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import t from 'tap'
import { checkManifest } from '../src/manifest.js'
import { isolatedEnv, runInProcess } from './helpers.js'

const SECRET = 'https://hooks.example.com/services/T0SECRET/XsecretTOKEN'
/** The manifest's reference to the URL in the environment. */
const HOOK_URL = '$' + '{HOOK_URL}'

t.test('validate: webhook options are checked at their line and column, secrets not shown', async (t) => {
  const text = [
    'version: 1', //                                  1
    'app: hooks', //                                  2
    'pipelines:', //                                  3
    '  main:', //                                     4
    '    sources: [{ use: stdin }]', //               5
    '    sinks:', //                                  6
    '      - use: webhook', //                        7
    `        url: ${HOOK_URL}`, //                    8
    '        preset: teams', //                       9
    '        batch: { maxBytes: -5 }', //             10
    '      - use: webhook', //                        11
    '        url: "ftp://T0SECRET/x"', //             12
    '        retry: { retries: 2, retryOn: [429] }', // 13
    '      - use: console', //                        14
    '        retry: { retryOn: [429] }', //           15
  ].join('\n')
  const result = await checkManifest(text, 'm.yaml', { env: { HOOK_URL: 'not a url XsecretTOKEN' } })
  const at = result.problems.map((p) => `${p.line}:${p.col} ${p.code}`)
  t.same(
    at,
    [
      '8:14 LOGKIT_ERR_MANIFEST_OPTION_INVALID',
      '9:17 LOGKIT_ERR_MANIFEST_OPTION_INVALID',
      '10:28 LOGKIT_ERR_MANIFEST_OPTION_INVALID',
      '12:14 LOGKIT_ERR_MANIFEST_OPTION_INVALID',
      '15:18 LOGKIT_ERR_MANIFEST_KEY_UNKNOWN',
    ],
    "the URL from the environment, the preset, the size and the other URL at their places; the console sink's runtime retry has no retryOn",
  )
  const messages = result.problems.map((p) => p.message).join('\n')
  t.notMatch(messages, /T0SECRET|XsecretTOKEN/, 'no message shows the URL')
  t.notOk(
    result.problems.some((p) => p.line === 13),
    "the webhook's retry with retryOn is its own option, accepted",
  )
})

t.test('validate: a good webhook manifest passes, its retry kept as its own option', async (t) => {
  const text = [
    'version: 1',
    'app: hooks',
    'pipelines:',
    '  main:',
    '    sources: [{ use: stdin }]',
    '    sinks:',
    '      - use: webhook',
    '        id: slack',
    `        url: ${HOOK_URL}`,
    '        preset: slack',
    '        level: error',
    '        retry: { retries: 2, retryOn: [429, 503], maxRetryAfterMs: 5000 }',
    '        queue: { capacity: 100, policy: drop_newest }',
  ].join('\n')
  const result = await checkManifest(text, 'm.yaml', { env: { HOOK_URL: SECRET } })
  t.same(result.problems, [], 'no problem')
  const sink = result.plan?.pipelines[0]?.sinks[0]
  t.same(
    sink?.options['retry'],
    { retries: 2, retryOn: [429, 503], maxRetryAfterMs: 5000 },
    "the sink's own retry",
  )
  t.equal(sink?.retry, undefined, "the runtime's retry keeps its defaults")
  t.same(sink?.queue, { capacity: 100, policy: 'drop_newest' }, 'the queue is the runtime’s')
})

t.test('replay: a dead-letter file is sent again with the manifest’s options and emptied', async (t) => {
  const env = isolatedEnv()
  const bodies: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c))
    req.on('end', () => {
      bodies.push(body)
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as { port: number }).port
  const deadLetter = join(env.work, 'dead.ndjson')
  const manifest = join(env.work, 'logkit.yaml')
  writeFileSync(
    manifest,
    [
      'version: 1',
      'app: replayapp',
      'pipelines:',
      '  main:',
      '    sources: [{ use: stdin }]',
      '    sinks:',
      '      - use: webhook',
      '        id: ship',
      `        url: ${HOOK_URL}`,
      '        preset: ndjson',
      `        deadLetter: ${deadLetter}`,
    ].join('\n'),
  )
  const header = (n: number) =>
    JSON.stringify({ logkit_dead_letter: { reason: 'rejected', status: 400, entries: n, attempts: 1 } })
  const line = (i: number) =>
    JSON.stringify({ level: 50, time: 1700000000000 + i, msg: `lost ${i}`, order: i })
  writeFileSync(deadLetter, [header(2), line(1), line(2), header(1), line(3), ''].join('\n'), { mode: 0o600 })
  const url = `http://127.0.0.1:${port}/hook/T0SECRET?k=XsecretTOKEN`
  const result = await runInProcess(['replay', deadLetter, '--manifest', manifest, '--sink', 'ship'], {
    ...process.env,
    HOOK_URL: url,
    LOGKIT_RUNTIME_DIR: env.LOGKIT_RUNTIME_DIR,
  })
  t.equal(result.code, 0, `exit 0 (${result.stderr})`)
  t.match(result.stdout, /3 entries, 3 delivered, 0 still in the file/, 'it says what it did')
  t.same(
    bodies.map((b) =>
      b
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).order),
    ),
    [[1, 2], [3]],
    'each record once, in order, its batch kept together',
  )
  t.notOk(existsSync(deadLetter), 'the file is gone: nothing is left to deliver')
  t.notMatch(result.stdout + result.stderr, /T0SECRET|XsecretTOKEN/, 'no secret printed')

  const missing = await runInProcess(['replay', deadLetter, '--manifest', manifest, '--sink', 'nope'], {
    ...process.env,
    HOOK_URL: url,
  })
  t.equal(missing.code, 1, 'an unknown sink fails')
  t.match(missing.stderr, /LOGKIT_ERR_CLI_REPLAY/, 'with its code')
  t.match(readFileSync(manifest, 'utf8'), /deadLetter/, 'the manifest is untouched')
})
