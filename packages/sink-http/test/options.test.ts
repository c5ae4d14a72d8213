// Options are checked purely, before anything listens: defaults, bounds, and a
// listener beyond loopback without a token refused at `host`, which the CLI
// reports at that option's line and column of the manifest.

import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isLogkitError } from '@logkit/core'
import { privateRuntimeEnv } from '@logkit/core/testing'
import t from 'tap'
import { isLoopbackHost, validateHttpOptions } from '../src/index.js'
import { cliBin } from './helpers.js'

const TOKEN_REF = '$' + '{WEB_TOKEN}'

t.test('defaults: 127.0.0.1:4780, no token, bounded history, queue and clients', async (t) => {
  t.same(validateHttpOptions({}), {
    host: '127.0.0.1',
    port: 4780,
    history: 1000,
    clientQueue: 1000,
    maxClients: 32,
    maxClientsPerIp: 8,
  })
})

t.test('loopback is 127.0.0.0/8, ::1 and localhost; nothing else', async (t) => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', 'a.localhost'])
    t.ok(isLoopbackHost(h), `${h} is loopback`)
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '128.0.0.1'])
    t.notOk(isLoopbackHost(h), `${h} is not`)
})

t.test('beyond loopback without a token is refused at host; with one it is accepted', async (t) => {
  const err = (() => {
    try {
      validateHttpOptions({ host: '0.0.0.0' })
    } catch (e) {
      return e
    }
  })()
  t.ok(isLogkitError(err), 'a LogkitError')
  t.equal((err as { code: string }).code, 'LOGKIT_ERR_OPTIONS_INVALID', 'an options error')
  const issues = (err as { details: { issues: { path: string[] }[] } }).details.issues
  t.same(
    issues.map((i) => i.path),
    [['host']],
    'at the host option',
  )
  t.same(
    validateHttpOptions({ host: '0.0.0.0', token: 'x'.repeat(16) }).host,
    '0.0.0.0',
    'a token makes it acceptable',
  )
})

t.test('bad values are refused with the token never shown', async (t) => {
  const secret = 'short-secret'
  for (const [options, path] of [
    [{ port: 70000 }, 'port'],
    [{ port: 1.5 }, 'port'],
    [{ clientQueue: 0 }, 'clientQueue'],
    [{ maxClients: 0 }, 'maxClients'],
    [{ token: secret }, 'token'],
    [{ colour: 'red' }, ''],
  ] as const) {
    try {
      validateHttpOptions(options)
      t.fail(`${JSON.stringify(options)} should be refused`)
    } catch (err) {
      const e = err as { code: string; message: string; details: { issues: { path: string[] }[] } }
      t.equal(e.code, 'LOGKIT_ERR_OPTIONS_INVALID', `${path || 'an unknown key'} is refused`)
      t.equal(e.details.issues[0]?.path.join('.'), path, `at ${path || 'the options'}`)
      t.notMatch(e.message, secret, 'the message does not show the token')
    }
  }
})

t.test('logkit validate names the manifest line and column of host; with a token it is valid', async (t) => {
  const { work } = privateRuntimeEnv('logkit-http-options-')
  const manifest = join(work, 'logkit.yaml')
  const lines = (extra: string[]) =>
    [
      'version: 1',
      'app: webcheck',
      'pipelines:',
      '  main:',
      '    sources: [{ use: stdin }]',
      '    sinks:',
      '      - use: http',
      '        host: 0.0.0.0',
      ...extra,
      '',
    ].join('\n')
  writeFileSync(manifest, lines([]))
  const env = { ...process.env, NODE_OPTIONS: '', WEB_TOKEN: 'a-secret-token-of-32-characters!' }
  const refused = spawnSync(process.execPath, [cliBin, 'validate', manifest], { env, encoding: 'utf8' })
  t.equal(refused.status, 2, 'exit code 2: an invalid manifest')
  t.match(refused.stderr + refused.stdout, `${manifest}:8:15`, 'the error is at host: line 8, column 15')
  t.match(refused.stderr + refused.stdout, /needs an access token/, 'saying a token is needed')
  writeFileSync(manifest, lines([`        token: ${TOKEN_REF}`]))
  const valid = spawnSync(process.execPath, [cliBin, 'validate', manifest], { env, encoding: 'utf8' })
  t.equal(valid.status, 0, `with token: \${WEB_TOKEN} the manifest is valid ${valid.stderr}`)
  t.notMatch(valid.stderr + valid.stdout, env.WEB_TOKEN, 'validate does not print the token')
})

t.test('logkit compose refuses to start beyond loopback without a token, at the line of host', async (t) => {
  const { work, LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR } = privateRuntimeEnv('logkit-http-options-')
  const manifest = join(work, 'logkit.yaml')
  writeFileSync(
    manifest,
    [
      'version: 1',
      'app: webstart',
      'pipelines:',
      '  main:',
      '    sources: [{ use: stdin }]',
      '    sinks:',
      '      - use: http',
      '        port: 0',
      '        host: "::"',
      '',
    ].join('\n'),
  )
  const env = { ...process.env, NODE_OPTIONS: '', LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR }
  const refused = spawnSync(process.execPath, [cliBin, 'compose', manifest], {
    env,
    encoding: 'utf8',
    input: '',
  })
  t.equal(refused.status, 2, 'exit code 2: nothing was started')
  t.match(refused.stderr, `${manifest}:9:15`, 'the error is at host: line 9, column 15')
  t.match(refused.stderr, /nothing was started/, 'and nothing was started')
})
