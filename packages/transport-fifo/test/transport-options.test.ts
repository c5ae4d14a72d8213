import t from 'tap'
import { DEFAULT_BUFFER_BYTES, parseTransportOptions } from '../src/transport-options.js'

t.test('the producer options get their defaults', (t) => {
  const onError = () => {}
  t.same(
    parseTransportOptions({ app: 'shop', onError }),
    {
      app: 'shop',
      onError,
      policy: 'block',
      bufferBytes: DEFAULT_BUFFER_BYTES,
      blockMs: 100,
      heartbeatMs: 10_000,
      retryMs: 1000,
      flushTimeoutMs: 5000,
      closeTimeoutMs: 5000,
    },
    'the defaults of the README table',
  )
  t.equal(parseTransportOptions({ app: 'shop', heartbeatMs: 0 }).heartbeatMs, 0, 'a given value is kept')
  t.end()
})

t.test('every bad option is named, with the code validateOptions gives', (t) => {
  t.throws(
    () =>
      parseTransportOptions({
        app: '',
        source: 7,
        env: 'HOME=/',
        policy: 'wait',
        onError: true,
        bufferBytes: 512,
        blockMs: 1.5,
        retryMs: 0,
        heartbeatMs: '10',
      }),
    {
      code: 'LOGKIT_ERR_OPTIONS_INVALID',
      details: {
        name: 'fifo',
        kind: 'transport',
        issues: [
          'app',
          'source',
          'env',
          'policy',
          'onError',
          'bufferBytes',
          'blockMs',
          'heartbeatMs',
          'retryMs',
        ].map((key) => ({ path: [key] })),
      },
    },
    'one issue per bad option, in order',
  )
  t.throws(
    () => parseTransportOptions(undefined),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'no options at all',
  )
  t.throws(() => parseTransportOptions({}), { code: 'LOGKIT_ERR_OPTIONS_INVALID' }, 'no app')
  t.end()
})
