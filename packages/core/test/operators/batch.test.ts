import { map, NEVER, Subject } from 'rxjs'
import t from 'tap'
import { batch, batchDefinition } from '../../src/operators/batch.js'
import { isHolding, markHolding } from '../../src/operators/holds.js'
import { validateOptions } from '../../src/plugin.js'
import { marbles, testEntries } from '../../src/testing/marbles.js'

const e = testEntries({ a: 'a', b: 'b', c: 'c', d: 'd', f: 'f', g: 'g' })

t.test('batch emits when size entries are held', (t) => {
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abcdfg-|', e)
    const expected = '-x-y-z-|'
    expectObservable(source.pipe(batch({ size: 2 }))).toBe(expected, {
      x: [e.a, e.b],
      y: [e.c, e.d],
      z: [e.f, e.g],
    })
  })
  t.end()
})

t.test('batch emits maxWaitMs after the first held entry when not full by then', (t) => {
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('a 50ms b 48ms - c 200ms |', e)
    const expected = '   - 50ms - 48ms x - 99ms y 100ms |'
    expectObservable(source.pipe(batch({ size: 10, maxWaitMs: 100 }))).toBe(expected, {
      x: [e.a, e.b],
      y: [e.c],
    })
  })
  t.end()
})

t.test('batch starts a new wait with the first entry after a full batch', (t) => {
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab 20ms c 200ms |', e)
    const expected = '   -x 20ms - 99ms y 100ms |'
    expectObservable(source.pipe(batch({ size: 2, maxWaitMs: 100 }))).toBe(expected, {
      x: [e.a, e.b],
      y: [e.c],
    })
  })
  t.end()
})

t.test('batch emits what it holds when flush emits, and nothing when it holds nothing', (t) => {
  marbles(t).run(({ cold, hot, expectObservable }) => {
    const source = cold('ab---c--d 1s |', e)
    const flush = hot('  --F-F--F-F', { F: undefined })
    const expected = '   --x----y-z 999ms |'
    expectObservable(source.pipe(batch({ size: 10, maxWaitMs: 5000, flush }))).toBe(expected, {
      x: [e.a, e.b],
      y: [e.c],
      z: [e.d],
    })
  })
  t.end()
})

t.test('batch emits the rest on completion, and never an empty array', (t) => {
  marbles(t).run(({ cold, expectObservable }) => {
    const full = cold('abc|', e)
    const empty = cold('---|', e)
    expectObservable(full.pipe(batch({ size: 2 }))).toBe('-x-(y|)', { x: [e.a, e.b], y: [e.c] })
    expectObservable(empty.pipe(batch({ size: 2 }))).toBe('---|')
  })
  t.end()
})

t.test('batch emits what it holds, then forwards an error', (t) => {
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab#', e, new Error('upstream'))
    const expected = '--(x#)'
    expectObservable(source.pipe(batch())).toBe(expected, { x: [e.a, e.b] }, new Error('upstream'))
  })
  t.end()
})

t.test('batch forwards an error of the flush notifier after emitting what it holds', (t) => {
  marbles(t).run(({ cold, hot, expectObservable }) => {
    const source = cold('a---', e)
    const flush = hot('  --#', undefined, new Error('flush failed'))
    const expected = '   --(x#)'
    expectObservable(source.pipe(batch({ flush }))).toBe(expected, { x: [e.a] }, new Error('flush failed'))
  })
  t.end()
})

t.test('batch cancels its timer and stops listening to flush when unsubscribed', (t) => {
  marbles(t).run(({ cold, hot, expectObservable, expectSubscriptions }) => {
    const source = cold('a 5ms -', e)
    const flush = hot('  --- 10ms F', { F: undefined })
    const unsub = '      ^--!'
    expectObservable(source.pipe(batch({ maxWaitMs: 10, flush })), unsub).toBe('---')
    expectSubscriptions(flush.subscriptions).toBe('^--!')
  })
  t.end()
})

t.test('batch gives each subscription its own batch', (t) => {
  marbles(t).run(({ cold, expectObservable }) => {
    const batched = cold('abc|', e).pipe(batch({ size: 2 }))
    expectObservable(batched).toBe('-x-(y|)', { x: [e.a, e.b], y: [e.c] })
    expectObservable(batched).toBe('-x-(y|)', { x: [e.a, e.b], y: [e.c] })
  })
  t.end()
})

t.test('batch is branded as holding entries, and plain operators are not', (t) => {
  t.equal(isHolding(batch()), true, 'batch() is marked as holding')
  t.equal(isHolding(map((x) => x)), false, 'map() is not')
  t.equal(isHolding(undefined), false, 'a non-function is not')
  const fn = (): void => {}
  t.equal(markHolding(fn), fn, 'markHolding returns the function it marks')
  t.equal(isHolding(fn), true, 'and the mark sticks')
  t.end()
})

t.test('batch rejects bad options when it is made', (t) => {
  t.throws(() => batch({ size: 0 }), { code: 'LOGKIT_ERR_OPTIONS_INVALID' }, 'size 0 throws')
  t.throws(() => batch({ size: 1.5 }), { code: 'LOGKIT_ERR_OPTIONS_INVALID' }, 'a fractional size throws')
  t.throws(() => batch({ maxWaitMs: -1 }), { code: 'LOGKIT_ERR_OPTIONS_INVALID' }, 'a negative wait throws')
  t.end()
})

t.test('the batch definition holds entries, validates options and flushes on the pipeline flushes', (t) => {
  t.equal(batchDefinition.holds, true, 'the definition says it holds entries')
  t.throws(
    () => validateOptions(batchDefinition, { size: 'big' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a size that is not a number is rejected',
  )
  t.throws(
    () => validateOptions(batchDefinition, { size: 10, flush: true }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown option is rejected',
  )
  const flushes = new Subject<void>()
  const scheduler = marbles(t)
  scheduler.run(({ cold, expectObservable }) => {
    const op = batchDefinition.create(validateOptions(batchDefinition, { size: 10, maxWaitMs: 1000 }), {
      id: 'batch',
      app: '',
      flushes,
      report: () => {},
      scheduler,
    })
    t.equal(isHolding(op), true, 'the operator it creates is marked as holding')
    cold('--F', { F: undefined }).subscribe(() => flushes.next())
    expectObservable(cold('a-----|', e).pipe(op)).toBe('--x---|', { x: [e.a] })
  })
  t.end()
})

t.test('batch with no flush notifier needs none', (t) => {
  marbles(t).run(({ cold, expectObservable }) => {
    expectObservable(cold('a|', e).pipe(batch({ flush: NEVER }))).toBe('-(x|)', { x: [e.a] })
  })
  t.end()
})
