import t from 'tap'
import { createEntry } from '../../src/entry.js'
import { Fields } from '../../src/fields.js'
import {
  marbles,
  normalizeForCompare,
  TEST_PID,
  TEST_TIME,
  testEntries,
  testEntry,
} from '../../src/testing/marbles.js'

t.test('normalizeForCompare turns entries into plain data', (t) => {
  const ack = { stream: { id: 's' }, position: 1 }
  const entry = { ...testEntry({ msg: 'hi', fields: { a: 1 } }), ack, line: undefined }
  t.same(
    normalizeForCompare([{ frame: 0, notification: { kind: 'N', value: [entry] } }]),
    [
      {
        frame: 0,
        notification: {
          kind: 'N',
          value: [
            {
              time: String(TEST_TIME),
              level: 30,
              msg: 'hi',
              app: '',
              source: '',
              pid: TEST_PID,
              hostname: '',
              seq: 0,
              fields: { a: 1 },
            },
          ],
        },
      },
    ],
    'fields become their value, time a decimal string, ack and undefined properties are left out',
  )
  t.same(normalizeForCompare(Fields.of({ b: [1] })), { b: [1] }, 'bare Fields become their value')
  t.end()
})

t.test('a marble assertion fails when entries differ only in their fields', (t) => {
  const calls: [unknown, unknown][] = []
  const recorder = { same: (found: unknown, wanted: unknown) => calls.push([found, wanted]) }
  const a = testEntry({ fields: { user: 'ann' } })
  const b = testEntry({ fields: { user: 'bob' } })
  marbles(recorder).run(({ cold, expectObservable }) => {
    expectObservable(cold('a|', { a })).toBe('b|', { b })
  })
  t.equal(calls.length, 1, 'the scheduler compared the frames once')
  const [found, wanted] = calls[0] ?? []
  t.notSame(found, wanted, 'the normalised frames differ, so t.same would fail')
  t.end()
})

t.test('testEntries makes entries with a fixed time and pid, a string meaning the message', (t) => {
  const e = testEntries({ a: 'hello', b: { level: 50, msg: 'boom' } })
  t.same(
    normalizeForCompare(e.a),
    normalizeForCompare(createEntry({ time: TEST_TIME, pid: TEST_PID, msg: 'hello' })),
    'a string is the message',
  )
  t.equal(e.b.level, 50, 'an object is the entry init')
  t.equal(e.b.time, TEST_TIME, 'with the fixed time')
  t.end()
})
