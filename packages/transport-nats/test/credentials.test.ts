// Credentials against a real nats-server: user and password, token and nkey
// seed connect; wrong ones are a clear error (LOGKIT_ERR_NATS_AUTH) that
// never holds the secret, at start-up of `logkit compose` too; a bad creds
// file, nkey seed or TLS file is refused before any connection; a bad option
// is reported at its manifest line and column.

import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createEntry, createPipeline, isLogkitError } from '@logkit/core'
import { createMemorySink, tempDir, waitFor } from '@logkit/core/testing'
import { createUser } from '@nats-io/nkeys'
import t from 'tap'
import {
  clientOptions,
  createNatsSource,
  natsSinkOptions,
  natsSourceOptions,
  openNatsSink,
} from '../src/index.js'
import { sourceEnd, startServer } from './helpers.js'
import { cliBin, envRef, exited, Scene } from './processes.js'

const PASSWORD = 'pa55-Very-Secret-word'
const TOKEN = 'tok-Very-Secret-token'
const user = createUser()
const SEED = new TextDecoder().decode(user.getSeed())
const noop = () => {}

const sinkWith = (url: string, auth: unknown) =>
  openNatsSink(natsSinkOptions.parse({ servers: url, auth }), { report: noop })

t.test(
  'user/password and nkey: right ones publish, wrong ones fail clearly without the secret',
  async (t) => {
    const server = await startServer(t, {
      extra: `authorization { users: [ { user: alice, password: "${PASSWORD}" }, { nkey: ${user.getPublicKey()} } ] }`,
    })
    for (const auth of [{ user: 'alice', password: PASSWORD }, { nkeySeed: SEED }]) {
      const sink = await sinkWith(server.url, auth)
      await sink.write([createEntry({ msg: 'hi', seq: 1 })])
      t.equal(sink.status().acknowledged, 1, `${Object.keys(auth)[0]}: published and acknowledged`)
      await sink.close()
    }
    const wrongSeed = new TextDecoder().decode(createUser().getSeed())
    for (const [auth, secret] of [
      [{ user: 'alice', password: 'not-the-Secret-1' }, 'not-the-Secret-1'],
      [{ nkeySeed: wrongSeed }, wrongSeed],
    ] as const) {
      const err = await sinkWith(server.url, auth).then(
        () => undefined,
        (e: unknown) => e,
      )
      t.ok(isLogkitError(err, 'LOGKIT_ERR_NATS_AUTH'), `${Object.keys(auth)[0]}: LOGKIT_ERR_NATS_AUTH`)
      t.notMatch(String((err as Error).message), secret, 'the message does not hold the secret')
      t.notMatch(JSON.stringify(err), secret, 'nor its details')
    }

    // The source reports the same error through the pipeline.
    const err = await sourceEnd({
      servers: server.url,
      durable: 'd',
      auth: { user: 'alice', password: 'nope-Secret' },
    })
    t.ok(isLogkitError(err, 'LOGKIT_ERR_NATS_AUTH'), 'the source fails with LOGKIT_ERR_NATS_AUTH')
    t.notMatch(String((err as Error).message), 'nope-Secret', 'without the password')
  },
)

t.test('a token server: the right token connects, a wrong one does not', async (t) => {
  const server = await startServer(t, { extra: `authorization { token: "${TOKEN}" }` })
  const sink = await sinkWith(server.url, { token: TOKEN })
  await sink.write([createEntry({ msg: 'hi', seq: 1 })])
  t.equal(sink.status().acknowledged, 1, 'published with the token')
  await sink.close()
  const err = await sinkWith(server.url, { token: 'wrong-Token-x' }).catch((e: unknown) => e)
  t.ok(isLogkitError(err, 'LOGKIT_ERR_NATS_AUTH'), 'a wrong token: LOGKIT_ERR_NATS_AUTH')
  t.notMatch(String(err), 'wrong-Token-x', 'not shown')
})

t.test('logkit compose with a wrong password: a clear error at start-up, the password nowhere', async (t) => {
  const server = await startServer(t, {
    extra: `authorization { users: [ { user: alice, password: "${PASSWORD}" } ] }`,
  })
  const scene = new Scene(t, 'logkit-nats-auth-')
  const file = scene.manifest('host.yaml', [
    'version: 1',
    `app: natsauth${process.pid}`,
    'pipelines:',
    '  host:',
    '    sources: [{ use: shm }]',
    '    sinks:',
    '      - use: nats',
    `        servers: ${envRef('NATS_URL')}`,
    `        auth: { user: alice, password: '${envRef('NATS_PASSWORD')}' }`,
  ])
  const host = scene.compose(file, { NATS_URL: server.url, NATS_PASSWORD: 'Wr0ng-Secret-pw' })
  await exited(host.child)
  t.not(host.child.exitCode, 0, 'compose exits non-zero')
  t.match(
    host.stderr(),
    /host: failed to start: .*LOGKIT_ERR_CLI_PIPELINE_FAILED/,
    'the pipeline did not start',
  )
  t.match(host.stderr(), /refused the credentials/, 'saying what is wrong')
  t.notMatch(host.stderr() + host.stdout(), 'Wr0ng-Secret-pw', 'the password is not printed')
})

t.test('bad credentials files, seeds and TLS files are refused before connecting', async (t) => {
  const dir = tempDir('logkit-nats-creds-')
  const notCreds = join(dir, 'user.creds')
  writeFileSync(notCreds, 'SECRET-CONTENT-not-a-creds-file')
  const cases: [unknown, string][] = [
    [{ auth: { credsFile: join(dir, 'missing.creds') } }, 'LOGKIT_ERR_NATS_CREDENTIALS'],
    [{ auth: { credsFile: notCreds } }, 'LOGKIT_ERR_NATS_CREDENTIALS'],
    [{ auth: { nkeySeed: 'not-a-Seed-secret' } }, 'LOGKIT_ERR_NATS_CREDENTIALS'],
    [{ tls: { ca: join(dir, 'ca.pem') } }, 'LOGKIT_ERR_NATS_TLS'],
    // There, and not a readable file: refused now, not at every connection attempt.
    [{ tls: { ca: dir } }, 'LOGKIT_ERR_NATS_TLS'],
  ]
  for (const [options, code] of cases) {
    const config = natsSinkOptions.parse(options)
    const err = (() => {
      try {
        clientOptions(config, 'x')
      } catch (e) {
        return e
      }
    })()
    t.ok(isLogkitError(err, code), `${JSON.stringify(options).replace(dir, '…')}: ${code}`)
    t.notMatch(String(err), /SECRET-CONTENT|not-a-Seed-secret/, 'no secret in it')
  }
  const ca = join(dir, 'ca.pem')
  writeFileSync(ca, 'PEM-CONTENT')
  t.same(
    clientOptions(natsSinkOptions.parse({ tls: { ca } }), 'x').tls,
    { ca: 'PEM-CONTENT' },
    'TLS files are read at creation and their contents handed to the client',
  )
  const err = (() => {
    try {
      clientOptions(natsSinkOptions.parse({ tls: { ca: dir } }), 'x')
    } catch (e) {
      return e as Error & { retryable?: boolean }
    }
  })()
  t.match(String(err?.message), dir, 'the error names the file')
  t.equal(err?.retryable, false, 'and is not retried')
})

t.test('logkit validate: a bad nats option at its manifest line and column', async (t) => {
  const dir = tempDir('logkit-nats-validate-')
  const file = join(dir, 'bad.yaml')
  writeFileSync(
    file,
    [
      'version: 1',
      'app: natsv',
      'pipelines:',
      '  central:',
      '    sources:',
      '      - use: nats',
      '        durable: central',
      '        maxAckPending: 0',
      '    sinks:',
      '      - use: nats',
      '        encoding: yaml',
      '        maxMessageEntries: 5000',
      '        auth: { user: u, password: "Sup3r-Secret" , extra: 1 }',
    ].join('\n'),
  )
  const run = spawnSync(process.execPath, [cliBin, 'validate', file], { encoding: 'utf8' })
  t.equal(run.status, 2, 'exit code 2')
  t.match(run.stderr, `${file}:8:24`, 'maxAckPending at its line and column')
  t.match(run.stderr, `${file}:11:19`, 'encoding at its line and column')
  t.match(run.stderr, `${file}:12:28`, 'maxMessageEntries above 1024 at its line and column')
  t.notMatch(run.stderr, 'Sup3r-Secret', 'the password is not repeated')
})

t.test(
  'the source: a TLS file that cannot be read fails it at creation, reported as source_failed',
  async (t) => {
    const dir = tempDir('logkit-nats-srctls-')
    const seen: { code: string; message: string }[] = []
    let created = false
    const pipeline = createPipeline({
      id: 'central',
      diagnosticEntries: false,
      onDiagnostic: (d) => void seen.push(d),
      sources: [
        {
          id: 'nats',
          create: (ctx) => {
            const source = createNatsSource(
              natsSourceOptions.parse({
                servers: 'nats://127.0.0.1:1',
                durable: 'd',
                tls: { ca: 'missing.pem' },
              }),
              { ...ctx, dir },
            )
            created = true
            return source
          },
        },
      ],
      sinks: [createMemorySink()],
    })
    t.teardown(() => pipeline.close())
    await pipeline.start()
    const failed = await waitFor(() => seen.find((d) => d.code === 'source_failed'), 'the source to fail')
    t.notOk(created, 'create() threw: no connection was tried')
    t.match(failed.message, /tls\.ca .*missing\.pem/, 'the diagnostic names the file')
  },
)

t.test('TLS: the CA file is read at creation and the sink connects over TLS with it', async (t) => {
  const dir = tempDir('logkit-nats-tls-')
  const at = (f: string) => join(dir, f)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' })
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=logkit-test-ca',
  )
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  )
  writeFileSync(at('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.pem'),
    '-days',
    '1',
    '-extfile',
    at('ext.cnf'),
  )
  const server = await startServer(t, {
    extra: `tls { cert_file: "${at('server.pem')}", key_file: "${at('server.key')}" }`,
  })
  const sink = await openNatsSink(natsSinkOptions.parse({ servers: server.url, tls: { ca: 'ca.pem' } }), {
    report: noop,
    dir,
  })
  t.teardown(() => sink.close())
  await sink.write([createEntry({ msg: 'over tls', seq: 1 })])
  t.equal(sink.status().acknowledged, 1, 'published over TLS and acknowledged')
})
