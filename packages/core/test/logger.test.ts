import t from 'tap'
import type { LogEntry } from '../src/entry.js'
import { CAPABILITY_DROP_REASONS, type Frame } from '../src/frame.js'
import { FrameDecoder } from '../src/framing.js'
import { createLogger } from '../src/logger.js'
import type { Transport, TransportFactory, TransportIdentity } from '../src/transport.js'

/** A transport that decodes what it is given, and can be told to refuse frames. */
function capture() {
  const frames: Frame[] = []
  const decoder = new FrameDecoder({ onFrame: (f) => frames.push(f) })
  let refuse = false
  let closed = false
  const transport: Transport = {
    name: 'capture',
    write(frame) {
      if (refuse) return false
      decoder.push(frame)
      return true
    },
    flush: async () => {},
    close: async () => {
      closed = true
    },
  }
  return {
    transport,
    frames,
    entries: (): LogEntry[] => frames.flatMap((f) => (f.type === 'batch' ? f.entries : [])),
    refuse: (on: boolean) => {
      refuse = on
    },
    isClosed: () => closed,
  }
}

t.test('pino call shapes become entries', (t) => {
  const c = capture()
  const log = createLogger({ app: 'shop', source: 'checkout', transport: c.transport, hostname: 'box' })
  log.info('plain message')
  log.info({ orderId: 42, nested: { a: [1, null] } }, 'order placed')
  log.warn('hello %s, you are %d', 'world', 7)
  log.error({ user: 'x' })
  const [a, b, c3, d] = c.entries()
  t.equal(a?.msg, 'plain message', 'a string is the message')
  t.ok(a?.fields.isEmpty, 'with no fields')
  t.equal(b?.msg, 'order placed', 'object then message')
  t.same(
    b?.fields.value,
    { orderId: 42, nested: { a: [1, null] } },
    'the object becomes the fields, nested and lossless',
  )
  t.equal(c3?.msg, 'hello world, you are 7', 'printf-style arguments are formatted')
  t.equal(c3?.level, 40, 'warn is 40')
  t.equal(d?.msg, '', 'an object alone has an empty message')
  t.equal(d?.level, 50, 'error is 50')
  t.same(
    c.entries().map((e) => e.seq),
    [1, 2, 3, 4],
    'seq counts from 1',
  )
  t.same(
    [b?.app, b?.source, b?.hostname, b?.pid],
    ['shop', 'checkout', 'box', process.pid],
    'identity on every entry',
  )
  t.equal(c.frames[0]?.type, 'hello', 'the first frame is a hello')
  t.end()
})

t.test('errors are serialized like pino does', (t) => {
  const c = capture()
  const log = createLogger({ app: 'a', transport: c.transport })
  const err = Object.assign(new TypeError('boom', { cause: new Error('root') }), { code: 'E_BOOM' })
  log.error(err)
  log.error({ err, reqId: 7 }, 'request failed')
  const [first, second] = c.entries()
  t.equal(first?.msg, 'boom', 'the error message is the message')
  const serialized = first?.fields.get('err') as Record<string, unknown>
  t.equal(serialized['type'], 'TypeError', 'type')
  t.equal(serialized['code'], 'E_BOOM', 'own properties')
  t.match(serialized['stack'], /TypeError: boom/, 'stack')
  t.equal((serialized['cause'] as Record<string, unknown>)['message'], 'root', 'cause')
  t.equal(second?.fields.get('err.message'), 'boom', 'an err key is serialized too')
  t.equal(second?.fields.get('reqId'), 7, 'beside the other fields')
  t.end()
})

t.test('levels: below-level calls do nothing, the level can change at run time', (t) => {
  const c = capture()
  const log = createLogger({ app: 'a', level: 'warn', transport: c.transport })
  log.info('no')
  log.debug('no')
  log.warn('yes')
  t.equal(log.level, 'warn', 'level reads back')
  t.notOk(log.isLevelEnabled('info'), 'info is not enabled')
  log.level = 'debug'
  log.debug('now yes')
  log.trace('still no')
  t.same(
    c.entries().map((e) => e.msg),
    ['yes', 'now yes'],
    'only enabled calls produce entries',
  )
  t.throws(
    () => {
      log.level = 'loud' as 'info'
    },
    { code: 'LOGKIT_ERR_LEVEL_UNKNOWN' },
  )
  t.end()
})

t.test('children add bindings, share the sequence, may change source and level', (t) => {
  const c = capture()
  const log = createLogger({ app: 'a', source: 'main', transport: c.transport, bindings: { region: 'eu' } })
  const child = log.child({ reqId: 1 })
  const grandchild = child.child({ user: 'u' }, { source: 'auth', level: 'error' })
  log.info('root')
  child.info({ extra: true }, 'child')
  grandchild.warn('filtered')
  grandchild.error('grandchild')
  const [root, ch, gc] = c.entries()
  t.same(root?.fields.value, { region: 'eu' }, 'root has its bindings')
  t.same(ch?.fields.value, { region: 'eu', reqId: 1, extra: true }, 'child adds its own and the call’s')
  t.same(gc?.fields.value, { region: 'eu', reqId: 1, user: 'u' }, 'grandchild has all bindings')
  t.equal(gc?.source, 'auth', 'grandchild logs as its own source')
  t.same(
    c.entries().map((e) => e.seq),
    [1, 2, 3],
    'one sequence for the whole family',
  )
  t.end()
})

t.test('drops are counted and announced in the next frame; close says goodbye', async (t) => {
  const c = capture()
  const log = createLogger({ app: 'a', transport: c.transport })
  log.info('1')
  c.refuse(true)
  log.info('2')
  log.info('3')
  c.refuse(false)
  log.info('4')
  t.equal(log.stats.dropped, 2, 'two drops counted')
  const batches = c.frames.filter((f) => f.type === 'batch')
  t.same(
    batches.map((f) => (f.type === 'batch' ? [f.entries[0]?.seq, f.dropped] : [])),
    [
      [1, 0],
      [4, 2],
    ],
    'the frame after the drops carries their count, and its seq shows the gap',
  )
  await log.close()
  t.ok(c.isClosed(), 'the transport is closed')
  const last = c.frames.at(-1)
  t.same(
    last,
    { type: 'goodbye', lastSeq: 4, dropped: 2, droppedTooLarge: 0, droppedUnserializable: 0 },
    'goodbye carries the last seq and the drops',
  )
  log.info('after close')
  t.equal(log.stats.dropped, 3, 'a call after close is counted as dropped')
})

t.test('a value that JSON cannot stringify does not throw out of a log call', (t) => {
  const c = capture()
  const log = createLogger({ app: 'a', transport: c.transport })
  const loop: Record<string, unknown> = { n: 1n }
  loop['self'] = loop
  t.doesNotThrow(() => log.info(loop, 'circular'), 'no throw')
  t.same(
    c.entries()[0]?.fields.value,
    { n: '1', self: '[Circular]' },
    'circular and bigint are made printable',
  )
  t.end()
})

t.test('an entry too large to frame is dropped and counted, not thrown', (t) => {
  const c = capture()
  const log = createLogger({ app: 'a', transport: c.transport, maxFrameSize: 256 })
  log.info('x'.repeat(1000))
  log.info('small')
  t.equal(log.stats.dropped, 1, 'counted')
  t.same(
    c.entries().map((e) => [e.msg, e.seq]),
    [['small', 2]],
    'the next entry goes through with the next seq',
  )
  t.end()
})

t.test('the frames name why entries were dropped: too large, unserializable, refused', async (t) => {
  const c = capture()
  const log = createLogger({ app: 'a', transport: c.transport, maxFrameSize: 256 })
  log.info('1')
  t.match(c.frames[0], { type: 'hello', capabilities: [CAPABILITY_DROP_REASONS] }, 'the hello says so')
  log.info('x'.repeat(1000))
  log.info(
    {
      bad: {
        toJSON: () => {
          throw new Error('no')
        },
      },
    },
    'unserializable',
  )
  log.info('y'.repeat(1000))
  c.refuse(true)
  log.info('refused')
  c.refuse(false)
  log.info('5')
  const batches = c.frames.filter((f) => f.type === 'batch')
  t.same(
    batches.map((f) => [f.entries[0]?.msg, f.dropped, f.droppedTooLarge, f.droppedUnserializable]),
    [
      ['1', 0, 0, 0],
      ['5', 4, 2, 1],
    ],
    'the next frame carries all four drops, and of those two too large and one unserializable',
  )
  log.info('6')
  t.match(c.frames.at(-1), { type: 'batch', dropped: 0, droppedTooLarge: 0 }, 'announced once')
  await log.close()
  t.same(
    c.frames.at(-1),
    { type: 'goodbye', lastSeq: 7, dropped: 4, droppedTooLarge: 2, droppedUnserializable: 1 },
    'the goodbye carries the totals by reason',
  )
})

t.test(
  'a transport to be opened gets the logger’s app and source; the app may come from LOGKIT_APP',
  async (t) => {
    const opened: TransportIdentity[] = []
    const c = capture()
    const factory: TransportFactory = {
      name: 'capture',
      open: (identity) => {
        opened.push(identity)
        return c.transport
      },
    }
    const log = createLogger({ app: 'shop', source: 'checkout', transport: factory })
    log.info('one')
    t.same(opened, [{ app: 'shop', source: 'checkout' }], 'opened once, with the logger’s identity')
    t.match(c.frames[0], { type: 'hello', app: 'shop', source: 'checkout' })

    const saved = process.env.LOGKIT_APP
    t.teardown(() => {
      if (saved === undefined) delete process.env.LOGKIT_APP
      else process.env.LOGKIT_APP = saved
    })
    process.env.LOGKIT_APP = 'pool'
    const fromEnv = createLogger({ transport: factory })
    fromEnv.info('two')
    t.same(
      opened[1],
      { app: 'pool', source: 'pool' },
      'the app from the environment, the source defaulting to it',
    )
    t.equal(fromEnv.source, 'pool')
    t.equal(
      createLogger({ app: 'given', transport: capture().transport }).source,
      'given',
      'an app given wins',
    )

    delete process.env.LOGKIT_APP
    t.throws(
      () => createLogger({ transport: factory }),
      { code: 'LOGKIT_ERR_APP_MISSING' },
      'no app anywhere',
    )
    t.equal(opened.length, 2, 'and nothing was opened for it')
    process.env.LOGKIT_APP = ''
    t.throws(
      () => createLogger({ transport: factory }),
      { code: 'LOGKIT_ERR_APP_MISSING' },
      'an empty LOGKIT_APP is none',
    )
    await log.close()
  },
)
