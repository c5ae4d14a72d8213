import { from, toArray } from 'rxjs'
import t from 'tap'
import type { DiagnosticReporter } from '../../src/diagnostics.js'
import type { LogEntry } from '../../src/entry.js'
import { Fields } from '../../src/fields.js'
import {
  parseRedactPath,
  type RedactOptions,
  redact,
  redactDefinition,
  WILDCARD,
} from '../../src/operators/redact.js'
import { validateOptions } from '../../src/plugin.js'
import { marbles, testEntries, testEntry } from '../../src/testing/marbles.js'

/** Runs `entries` through redact synchronously and returns what came out. */
function run(options: RedactOptions, ...entries: LogEntry[]): LogEntry[] {
  let out: LogEntry[] = []
  from(entries)
    .pipe(redact(options), toArray())
    .subscribe((all) => {
      out = all
    })
  return out
}

function redacted(options: RedactOptions, fields: Record<string, unknown>): unknown {
  return run(options, testEntry({ fields }))[0]?.fields.value
}

t.test('redact censors a top-level and a nested path', (t) => {
  const e = testEntries({
    a: { fields: { password: 'hunter2', user: 'ann' } },
    b: { fields: { req: { headers: { authorization: 'Bearer x', host: 'h' } } } },
  })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('ab|', e)
    const expected = 'xy|'
    expectObservable(source.pipe(redact({ paths: ['password', 'req.headers.authorization'] }))).toBe(
      expected,
      {
        x: { ...e.a, fields: Fields.of({ password: '[Redacted]', user: 'ann' }) },
        y: { ...e.b, fields: Fields.of({ req: { headers: { authorization: '[Redacted]', host: 'h' } } }) },
      },
    )
  })
  t.end()
})

t.test('redact follows quoted keys and array indices', (t) => {
  t.same(
    redacted(
      { paths: ['a["b-c"].d', "a['x.y']", 'list[1]'] },
      { a: { 'b-c': { d: 1, e: 2 }, 'x.y': 3 }, list: [1, 2, 3] },
    ),
    { a: { 'b-c': { d: '[Redacted]', e: 2 }, 'x.y': '[Redacted]' }, list: [1, '[Redacted]', 3] },
    'quoted keys may hold any character and indices pick one array item',
  )
  t.end()
})

t.test('a wildcard matches every key or index at its level', (t) => {
  t.same(
    redacted(
      { paths: ['users[*].email'] },
      { users: [{ email: 'a@x', id: 1 }, { id: 2 }, { email: 'c@x' }] },
    ),
    { users: [{ email: '[Redacted]', id: 1 }, { id: 2 }, { email: '[Redacted]' }] },
    'users[*].email censors the email of every user that has one',
  )
  t.same(
    redacted({ paths: ['*.secret'] }, { db: { secret: 's1', host: 'h' }, api: { secret: 's2' }, top: 'x' }),
    { db: { secret: '[Redacted]', host: 'h' }, api: { secret: '[Redacted]' }, top: 'x' },
    '*.secret censors secret one level down under every key',
  )
  t.same(
    redacted({ paths: ['tokens.*'] }, { tokens: { a: 1, b: 2 }, keep: 1 }),
    { tokens: { a: '[Redacted]', b: '[Redacted]' }, keep: 1 },
    'a trailing wildcard censors every value of an object',
  )
  t.end()
})

t.test('redact with remove deletes keys, and an array item reads as null', (t) => {
  t.same(
    redacted(
      { paths: ['password', 'req.headers.cookie', 'list[0]'], remove: true },
      {
        password: 'x',
        user: 'ann',
        req: { headers: { cookie: 'c', host: 'h' } },
        list: ['a', 'b'],
      },
    ),
    { user: 'ann', req: { headers: { host: 'h' } }, list: [null, 'b'] },
    'the keys are gone',
  )
  const [out] = run({ paths: ['only'], remove: true }, testEntry({ fields: { only: 1 } }))
  t.equal(out?.fields.isEmpty, true, 'removing the last key leaves empty fields')
  t.end()
})

t.test('redact with a censor text or function', (t) => {
  t.same(
    redacted({ paths: ['pin'], censor: '***' }, { pin: 1234 }),
    { pin: '***' },
    'a censor text replaces the value',
  )
  const calls: unknown[] = []
  const censor = (value: unknown, path: readonly string[]): unknown => {
    calls.push([value, path])
    return typeof value === 'string' ? value.replace(/.(?=.{2})/g, '*') : null
  }
  t.same(
    redacted({ paths: ['cards[*].number'], censor }, { cards: [{ number: '4111' }, { number: 55 }] }),
    { cards: [{ number: '**11' }, { number: null }] },
    'a censor function computes the replacement',
  )
  t.same(
    calls,
    [
      ['4111', ['cards', '0', 'number']],
      [55, ['cards', '1', 'number']],
    ],
    'and gets each value with its concrete path',
  )
  t.end()
})

t.test('redact never changes the fields of the entry it was given', (t) => {
  const fields = Fields.of({ user: { name: 'ann', password: 'p' }, list: [{ token: 't' }] })
  const input = testEntry({ fields })
  const before = JSON.stringify(fields.value)
  const [out] = run({ paths: ['user.password', 'list[*].token'] }, input)
  t.equal(JSON.stringify(fields.value), before, 'the input fields value is unchanged')
  t.equal(input.fields, fields, 'the input entry still has its fields')
  t.same(
    out?.fields.value,
    { user: { name: 'ann', password: '[Redacted]' }, list: [{ token: '[Redacted]' }] },
    'the output is redacted',
  )
  t.end()
})

t.test('redact copies only the branches it touches', (t) => {
  const untouched = { deep: { a: 1 } }
  const fields = Fields.of({ user: { password: 'p' }, other: untouched })
  const [out] = run({ paths: ['user.password'] }, testEntry({ fields }))
  const value = out?.fields.value as Record<string, unknown>
  t.equal(value['other'], untouched, 'a branch without a match is shared, not copied')
  t.not(value['user'], (fields.value as Record<string, unknown>)['user'], 'the touched branch is a copy')
  t.end()
})

t.test('redact passes on an entry it does not change as the same object', (t) => {
  const noMatch = testEntry({ fields: { user: 'ann' } })
  const wildNoMatch = testEntry({ fields: { a: { b: 1 } } })
  const empty = testEntry({ msg: 'no fields' })
  const mentioned = testEntry({ fields: { note: 'password' } })
  const out = run({ paths: ['password', 'a.secret'] }, noMatch, empty, mentioned)
  t.equal(out[0], noMatch, 'an entry without the paths is the same object')
  t.equal(out[1], empty, 'an entry without fields is the same object')
  t.equal(out[2], mentioned, 'an entry that only mentions a key as a value is the same object')
  const [wild] = run({ paths: ['*.secret'] }, wildNoMatch)
  t.equal(wild, wildNoMatch, 'a wildcard path that matches nothing leaves the same object')
  t.end()
})

t.test('redact finds a key written with JSON escapes', (t) => {
  const [out] = run(
    { paths: ['password'] },
    testEntry({ fields: Fields.fromJSON('{"pass\\u0077ord":"x","a":1}') }),
  )
  t.same(out?.fields.value, { password: '[Redacted]', a: 1 }, 'the escaped key is found and censored')
  t.end()
})

t.test('redact carries the ack reference along', (t) => {
  const ack = { stream: { id: 'fifo:7' }, position: 3 }
  const [out] = run({ paths: ['password'] }, { ...testEntry({ fields: { password: 'x' } }), ack })
  t.equal(out?.ack, ack, 'the redacted entry keeps its ack')
  t.end()
})

t.test('redact drops and reports an entry whose fields are not JSON, and one whose censor threw', (t) => {
  const seen: Parameters<DiagnosticReporter>[0][] = []
  const report: DiagnosticReporter = (d) => seen.push(d)
  const good = testEntry({ fields: { password: 'x' } })
  const bad = testEntry({ fields: Fields.fromJSON('{"password":') })
  const out = run({ paths: ['password'], report }, bad, good)
  t.equal(out.length, 1, 'only the good entry comes out')
  t.same(out[0]?.fields.value, { password: '[Redacted]' }, 'redacted')
  const throwing = run(
    {
      paths: ['password'],
      report,
      censor: () => {
        throw new Error('no')
      },
    },
    good,
  )
  t.equal(throwing.length, 0, 'an entry whose censor threw is not let through')
  t.same(
    seen.map((d) => [d.code, d.count]),
    [
      ['fields_invalid', 1],
      ['redact_failed', 1],
    ],
    'both drops are reported with a count',
  )
  t.end()
})

t.test('redact paths parse into keys and wildcards', (t) => {
  t.same(parseRedactPath('req.headers.authorization'), ['req', 'headers', 'authorization'], 'dotted keys')
  t.same(parseRedactPath('a["b-c"].d'), ['a', 'b-c', 'd'], 'a double-quoted key')
  t.same(parseRedactPath("a['x\\'y']"), ['a', "x'y"], 'a single-quoted key with an escaped quote')
  t.same(parseRedactPath('users[*].email'), ['users', WILDCARD, 'email'], 'a bracketed wildcard')
  t.same(parseRedactPath('*.secret'), [WILDCARD, 'secret'], 'a leading wildcard')
  t.same(
    parseRedactPath('["a b"][007]'),
    ['a b', '7'],
    'a path may start with a bracket; indices are numbers',
  )
  t.same(parseRedactPath('x-api-key'), ['x-api-key'], 'a dashed key is allowed unquoted')
  t.end()
})

t.test('a bad redact path is an error when the operator is made', (t) => {
  for (const path of [
    '',
    'a..b',
    'a.',
    '.a',
    'a[',
    'a[b]',
    'a["b]',
    'a["b"',
    'a]b',
    'a b',
    'a[0]b',
    'a.[0]',
  ]) {
    t.throws(
      () => redact({ paths: [path] }),
      { code: 'LOGKIT_ERR_REDACT_PATH' },
      `${JSON.stringify(path)} is refused`,
    )
  }
  t.end()
})

t.test('the redact definition validates manifest options', (t) => {
  t.throws(
    () => validateOptions(redactDefinition, { paths: ['a..b'] }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a bad path is rejected at validation',
  )
  t.throws(
    () => validateOptions(redactDefinition, { paths: [] }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'no paths is rejected',
  )
  t.throws(
    () => validateOptions(redactDefinition, { paths: 'password' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a single string instead of a list is rejected',
  )
  t.throws(
    () => validateOptions(redactDefinition, { paths: ['a'], censor: 1 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a censor that is not text is rejected',
  )
  t.throws(
    () => validateOptions(redactDefinition, { paths: ['a'], remvoe: true }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown option is rejected',
  )
  const seen: unknown[] = []
  const op = redactDefinition.create(validateOptions(redactDefinition, { paths: ['a'], censor: 'X' }), {
    id: 'redact',
    app: '',
    flushes: from([]),
    report: (d) => seen.push(d),
  })
  let out: LogEntry[] = []
  from([testEntry({ fields: { a: 1 } }), testEntry({ fields: Fields.fromJSON('{"a"') })])
    .pipe(op, toArray())
    .subscribe((all) => {
      out = all
    })
  t.same(
    out.map((e) => e.fields.value),
    [{ a: 'X' }],
    'the created operator redacts',
  )
  t.equal(seen.length, 1, 'and reports to the context reporter')
  t.end()
})
