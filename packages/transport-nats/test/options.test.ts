// The options schemas: defaults, and what is refused (without repeating secrets).

import { PLUGIN_API_VERSION, validateOptions } from '@logkit/core'
import t from 'tap'
import definitionModule, {
  definitions,
  natsSink,
  natsSinkOptions,
  natsSource,
  natsSourceOptions,
} from '../src/index.js'

const sinkDef = { kind: 'sink', name: 'nats', apiVersion: PLUGIN_API_VERSION, options: natsSinkOptions }

t.test('sink defaults', async (t) => {
  const o = natsSinkOptions.parse({})
  t.same(o.servers, ['nats://127.0.0.1:4222'], 'a local server')
  t.equal(o.subject, 'logkit.{app}.{source}', 'subject by app and source')
  t.equal(o.encoding, 'frames', 'frames')
  t.match(
    o.stream,
    { name: 'LOGKIT', subjects: ['logkit.>'], replicas: 1, create: true, maxBytes: -1 },
    'the stream',
  )
  t.equal(natsSinkOptions.parse({ maxMessageBytes: '64KiB' }).maxMessageBytes, 65536, 'sizes as text')
  t.equal(natsSinkOptions.parse({ stream: { maxBytes: '1GiB' } }).stream.maxBytes, 2 ** 30, 'stream size')
  t.equal(
    natsSinkOptions.parse({ maxMessageEntries: 1024 }).maxMessageEntries,
    1024,
    'up to 1024 entries per message (one batch of the central source)',
  )
})

t.test('source defaults; batch never above maxAckPending', async (t) => {
  const o = natsSourceOptions.parse({ durable: 'central', maxAckPending: 10 })
  t.match(o, { stream: 'LOGKIT', durable: 'central', ackWaitMs: 30_000, batch: 10 }, 'defaults')
  t.throws(() => natsSourceOptions.parse({}), 'durable is required')
})

t.test('refused options', async (t) => {
  const bad: [unknown, string][] = [
    [{ servers: 'http://x' }, 'servers'],
    [{ servers: 'nats://u:Secret-pw@h:4222' }, 'servers'],
    [{ servers: 'nats://Secret-pw@h:4222' }, 'servers'],
    [{ servers: ['nats://h:4222', 'Secret-pw@h2:4222'] }, 'servers'],
    [{ maxMessageEntries: 1025 }, 'maxMessageEntries'],
    [{ subject: 'logkit.>' }, 'subject'],
    [{ subject: 'a..b' }, 'subject'],
    [{ encoding: 'xml' }, 'encoding'],
    [{ maxInFlight: 0 }, 'maxInFlight'],
    [{ maxMessageBytes: 'lots' }, 'maxMessageBytes'],
    [{ auth: { password: 'Secret-pw' } }, 'auth'],
    [{ tls: { cert: 'c.pem' } }, 'tls'],
    [{ stream: { name: 'a.b' } }, 'stream'],
  ]
  for (const [options, path] of bad) {
    const err = (() => {
      try {
        validateOptions(sinkDef, options)
      } catch (e) {
        return e as Error & { details?: { issues?: { path: string[] }[] } }
      }
    })()
    t.equal(err?.details?.issues?.[0]?.path[0], path, `${path} refused`)
    t.notMatch(String(err?.message), 'Secret-pw', 'no secret repeated')
  }
})

t.test('definitions: the source by name, the sink as the default export', async (t) => {
  t.equal(definitions.nats, natsSource, 'definitions.nats is the source')
  t.equal(natsSource.kind, 'source', 'a source')
  t.equal(definitionModule, natsSink, 'the default export is the sink')
  t.equal(natsSink.kind, 'sink', 'a sink')
})
