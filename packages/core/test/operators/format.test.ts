import pino from 'pino'
import { from, toArray } from 'rxjs'
import t from 'tap'
import type { DiagnosticReporter } from '../../src/diagnostics.js'
import { createEntry, type LogEntry } from '../../src/entry.js'
import { Fields } from '../../src/fields.js'
import { colorsByDefault, createFormatter } from '../../src/format/index.js'
import { formatJson } from '../../src/format/json.js'
import { format, formatDefinition } from '../../src/operators/format.js'
import { validateOptions } from '../../src/plugin.js'
import { marbles, TEST_PID, testEntries, testEntry } from '../../src/testing/marbles.js'
import { nsToMs } from '../../src/time.js'

/** What pino itself prints for the same data: base bindings, name, the fields and seq as the logged object. */
function pinoLine(entry: LogEntry): string {
  const lines: string[] = []
  const base: Record<string, unknown> = { pid: entry.pid }
  if (entry.hostname !== '') base['hostname'] = entry.hostname
  if (entry.app !== '') base['app'] = entry.app
  const logger = pino(
    {
      base,
      ...(entry.source === '' ? {} : { name: entry.source }),
      level: 'trace',
      timestamp: () => `,"time":${nsToMs(entry.time)}`,
    },
    // Any object with write(line) is a pino destination; pino calls it synchronously.
    { write: (line: string) => lines.push(line) },
  )
  const object: Record<string, unknown> = {}
  if (entry.seq !== 0) object['seq'] = entry.seq
  Object.assign(object, entry.fields.value)
  logger.info(object, entry.msg)
  return (lines[0] ?? '').replace(/\n$/, '')
}

const tricky = [
  'plain message',
  'quote " and backslash \\ and slash /',
  'line\nbreak\r\nand\ttab',
  'unicode ✓ 日本語 émoji 😀',
  'lone surrogates \ud800 and \udfff',
  'line separators \u2028 \u2029',
  'controls \u0000 \u0007 \u001f \u007f',
  '',
]

/** A message as test-name text: JSON-quoted, with the line separators TAP would break lines at escaped. */
function label(msg: string): string {
  return JSON.stringify(msg).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
}

t.test('json lines are exactly what pino prints for the same data, for any message', (t) => {
  for (const msg of tricky) {
    const entry = testEntry({
      level: 30,
      msg,
      app: 'shop',
      source: 'db',
      hostname: 'host-1',
      seq: 7,
      fields: { user: { id: 7, name: 'ann "a" ✓' }, tags: ['a', 'b'], ok: true, none: null, n: 1.5 },
    })
    const line = formatJson(entry)
    let parsed: unknown
    t.doesNotThrow(
      () => {
        parsed = JSON.parse(line)
      },
      `JSON.parse accepts the line for ${label(msg)}`,
    )
    const expected = pinoLine(entry)
    t.same(parsed, JSON.parse(expected), `the line has pino's keys and values for ${label(msg)}`)
    // pino writes a lone surrogate raw (a UTF-8 stream turns it into U+FFFD); logkit escapes it as
    // JSON.stringify does, which parses back to the same string. Every other line is pino's, byte for byte.
    if (!/\p{Cs}/u.test(msg)) t.equal(line, expected, `the line is pino's, byte for byte, for ${label(msg)}`)
    else t.match(line, /\\ud800 and \\udfff/, 'lone surrogates are escaped, so the line is well-formed UTF-8')
  }
  t.end()
})

t.test('json lines match pino at every level and without optional bindings', (t) => {
  const entry = testEntry({ level: 50, msg: 'boom' })
  const parsed = JSON.parse(formatJson(entry))
  t.same(
    parsed,
    { level: 50, time: 1714566896789, pid: TEST_PID, msg: 'boom' },
    'app, name, hostname and seq 0 are left out',
  )
  const p = JSON.parse(pinoLine({ ...entry, level: 30 }))
  t.same({ ...parsed, level: 30 }, p, 'and pino prints the same keys')
  t.end()
})

t.test('json lines are built in pino key order with the fields spliced raw', (t) => {
  const entry = testEntry({
    level: 40,
    msg: 'slow',
    app: 'shop',
    source: 'db',
    hostname: 'h',
    seq: 3,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    fields: Fields.fromJSON('{"took_ms":812, "q" : {"a":[1,2]}}'),
  })
  t.equal(
    formatJson(entry),
    '{"level":40,"time":1714566896789,"pid":4242,"hostname":"h","app":"shop","name":"db","seq":3,' +
      '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",' +
      '"took_ms":812, "q" : {"a":[1,2]},"msg":"slow"}',
    'the fields text appears exactly as it arrived',
  )
  t.equal(
    formatJson(testEntry({ msg: 'x' })),
    '{"level":30,"time":1714566896789,"pid":4242,"msg":"x"}',
    'an entry without fields or bindings is the shortest pino line',
  )
  t.end()
})

const entry = testEntry({
  level: 30,
  msg: 'slow query',
  app: 'shop',
  source: 'db',
  hostname: 'host-1',
  seq: 9,
  fields: {
    took_ms: 812,
    sql: 'SELECT * FROM t WHERE a = 1',
    user: { id: 7, tags: ['a', 'b'] },
    empty: '',
    nothing: null,
    literal: 'null',
    obj: {},
    'my key': 'ünïcode',
    multi: 'a\nb "c"',
  },
})

t.test('logfmt lines quote and flatten as logfmt does', (t) => {
  t.equal(
    createFormatter({ format: 'logfmt' })(entry),
    'time=2024-05-01T12:34:56.789Z level=info app=shop source=db msg="slow query" took_ms=812 ' +
      'sql="SELECT * FROM t WHERE a = 1" user.id=7 user.tags.0=a user.tags.1=b empty= nothing=null ' +
      'literal="null" obj={} my_key=ünïcode multi="a\\nb \\"c\\""',
    'values with spaces, quotes or newlines are quoted and escaped; nested fields are flattened',
  )
  t.equal(
    createFormatter({ format: 'logfmt' })(
      testEntry({ level: 50, msg: 'boom', traceId: 'abc', spanId: 'def' }),
    ),
    'time=2024-05-01T12:34:56.789Z level=error msg=boom trace_id=abc span_id=def',
    'empty app and source are left out; trace and span ids follow the message',
  )
  t.end()
})

t.test('text lines follow the template', (t) => {
  const render = createFormatter({
    format: 'text',
    template:
      '{time} [{level}] {LEVEL} {source}: {msg} app={app} pid={pid} host={hostname} seq={seq} ' +
      'user={fields.user.id} tags={fields.user.tags} none={fields.nope} {fields.sql}',
  })
  t.equal(
    render(entry),
    '2024-05-01T12:34:56.789Z [info] INFO db: slow query app=shop pid=4242 host=host-1 seq=9 ' +
      'user=7 tags=["a","b"] none= SELECT * FROM t WHERE a = 1',
    'every placeholder is replaced; a string field as is, others as JSON, absent ones by nothing',
  )
  t.equal(
    createFormatter({ template: '{msg} {fields}' })(
      testEntry({ msg: 'hi', fields: Fields.fromJSON('{"a":1}') }),
    ),
    'hi {"a":1}',
    'a template alone means format text, and {fields} is the fields JSON',
  )
  t.equal(
    createFormatter({ format: 'text' })(testEntry({ level: 40, source: 'api', msg: 'careful' })),
    '2024-05-01T12:34:56.789Z [warn] api: careful',
    'the default template is "{time} [{level}] {source}: {msg}"',
  )
  t.equal(
    createFormatter({ template: '{traceId}/{spanId}' })(testEntry({ traceId: 't1', spanId: 's1' })),
    't1/s1',
    '{traceId} and {spanId} are the ids',
  )
  t.equal(
    createFormatter({ template: '{ "msg": "{msg}" } {{x' })(testEntry({ msg: 'hi' })),
    '{ "msg": "hi" } {{x',
    'braces around or beside a placeholder are literal text',
  )
  t.end()
})

t.test('an unknown placeholder is an error when the formatter is made', (t) => {
  t.throws(
    () => createFormatter({ format: 'text', template: '{time} {mesage}' }),
    { code: 'LOGKIT_ERR_FORMAT_TEMPLATE' },
    'a misspelt placeholder throws LOGKIT_ERR_FORMAT_TEMPLATE',
  )
  t.throws(
    () => createFormatter({ format: 'text', template: '{fields.}' }),
    { code: 'LOGKIT_ERR_FORMAT_TEMPLATE' },
    'an empty field path throws LOGKIT_ERR_FORMAT_TEMPLATE',
  )
  t.throws(
    () => format({ format: 'text', template: '{nope}' }),
    { code: 'LOGKIT_ERR_FORMAT_TEMPLATE' },
    'the format operator throws it when it is made',
  )
  t.throws(
    () => createFormatter({ format: 'json', template: '{msg}' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a template with another format than text is an options error',
  )
  t.throws(
    () => createFormatter({ format: 'xml' as 'json' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown format is an options error',
  )
  t.end()
})

t.test('pretty lines read like pino-pretty, in UTC unless local', (t) => {
  const small = testEntry({ level: 30, source: 'db', msg: 'slow query', fields: { took_ms: 812 } })
  t.equal(
    createFormatter({ format: 'pretty', colors: false })(small),
    '12:34:56.789 INFO  db (4242): slow query {"took_ms":812}',
    'time of day, padded level, source, pid, message, fields as compact JSON',
  )
  t.equal(
    createFormatter({ format: 'pretty', colors: false })(testEntry({ level: 50, msg: 'boom' })),
    '12:34:56.789 ERROR (4242): boom',
    'no source and no fields leave nothing behind',
  )
  t.equal(
    createFormatter({ format: 'pretty', colors: true })(small),
    '12:34:56.789 \u001b[32mINFO\u001b[39m  db (4242): slow query \u001b[90m{"took_ms":812}\u001b[39m',
    'with colors the level is green for info and the fields gray',
  )
  t.equal(
    createFormatter({ format: 'pretty', colors: true })(testEntry({ level: 60, msg: 'dead' })),
    '12:34:56.789 \u001b[41mFATAL\u001b[0m (4242): dead',
    'fatal has a red background, reset fully',
  )
  t.equal(
    createFormatter({ format: 'pretty' })(small),
    createFormatter({ format: 'pretty', colors: colorsByDefault() })(small),
    'colors default to whether stdout is a terminal (and NO_COLOR is unset)',
  )
  const local = new Date(1714566896789)
  const hh = String(local.getHours()).padStart(2, '0')
  const mm = String(local.getMinutes()).padStart(2, '0')
  t.equal(
    createFormatter({ format: 'pretty', colors: false, timeFormat: 'local' })(testEntry({ msg: 'x' })),
    `${hh}:${mm}:56.789 INFO  (4242): x`,
    'timeFormat local shows the local time of day',
  )
  t.end()
})

t.test('timeFormat local gives ISO time with the local offset in logfmt and text', (t) => {
  const line = createFormatter({ format: 'text', template: '{time}', timeFormat: 'local' })(testEntry())
  t.match(line, /^2024-05-0[12]T\d\d:\d\d:56\.789[+-]\d\d:\d\d$/, 'the time carries an offset')
  t.equal(new Date(line).getTime(), 1714566896789, 'and denotes the same instant')
  t.end()
})

t.test('format sets each entry line and keeps everything else', (t) => {
  const e = testEntries({ a: { msg: 'one', source: 'db' }, b: { level: 40, msg: 'two' } })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('a-b|', e)
    const expected = 'x-y|'
    expectObservable(source.pipe(format({ format: 'text', template: '{LEVEL} {msg}' }))).toBe(expected, {
      x: { ...e.a, line: 'INFO one' },
      y: { ...e.b, line: 'WARN two' },
    })
  })
  t.end()
})

t.test('format passes an upstream error on', (t) => {
  const e = testEntries({ a: 'one' })
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('a#', e, new Error('upstream'))
    const expected = 'x#'
    expectObservable(source.pipe(format({ template: '{msg}' }))).toBe(
      expected,
      { x: { ...e.a, line: 'one' } },
      new Error('upstream'),
    )
  })
  t.end()
})

t.test('format carries the ack reference along', (t) => {
  const ack = { stream: { id: 'shm:42' }, position: 17 }
  const input = { ...testEntry({ msg: 'x' }), ack }
  let out: LogEntry[] = []
  from([input])
    .pipe(format(), toArray())
    .subscribe((all) => {
      out = all
    })
  t.equal(out[0]?.ack, ack, 'the formatted entry has the same ack object')
  t.equal(out[0]?.line, '{"level":30,"time":1714566896789,"pid":4242,"msg":"x"}', 'and its json line')
  t.end()
})

t.test('format drops and reports an entry it cannot render, and goes on', (t) => {
  const cyclic: Record<string, unknown> = { name: 'loop' }
  cyclic['self'] = cyclic
  const e = { ...testEntries({ a: 'a', c: 'c' }), b: createEntry({ fields: cyclic }) }
  const seen: Parameters<DiagnosticReporter>[0][] = []
  marbles(t).run(({ cold, expectObservable }) => {
    const source = cold('abc|', e)
    const expected = 'x-y|'
    expectObservable(source.pipe(format({ format: 'json', report: (d) => seen.push(d) }))).toBe(expected, {
      x: { ...e.a, line: formatJson(e.a) },
      y: { ...e.c, line: formatJson(e.c) },
    })
  })
  t.same(
    seen.map((d) => [d.code, d.count]),
    [['format_failed', 1]],
    'the dropped entry is reported with a count',
  )
  t.end()
})

t.test('the format definition validates manifest options', (t) => {
  t.throws(
    () => validateOptions(formatDefinition, { format: 'xml' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown format is rejected',
  )
  t.throws(
    () => validateOptions(formatDefinition, { format: 'text', template: '{nope}' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a template with an unknown placeholder is rejected before anything is made',
  )
  t.throws(
    () => validateOptions(formatDefinition, { format: 'json', template: '{msg}' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a template with format json is rejected',
  )
  t.throws(
    () => validateOptions(formatDefinition, { colours: true }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'an unknown option is rejected',
  )
  const op = formatDefinition.create(validateOptions(formatDefinition, { format: 'logfmt' }), {
    id: 'format',
    app: '',
    flushes: from([]),
    report: () => {},
  })
  let out: LogEntry[] = []
  from([testEntry({ msg: 'hi' })])
    .pipe(op, toArray())
    .subscribe((all) => {
      out = all
    })
  t.equal(out[0]?.line, 'time=2024-05-01T12:34:56.789Z level=info msg=hi', 'the created operator formats')
  t.end()
})

t.test('format json: fields that would break the line are written as a string and reported', (t) => {
  const seen: [string, number | undefined][] = []
  const entries = [
    createEntry({ msg: 'forged', fields: Fields.fromJSON('{"a":1}\n{"level":60,"msg":"forged"}') }),
    createEntry({ msg: 'fine', fields: { a: 1 } }),
  ]
  let lines: string[] = []
  from(entries)
    .pipe(format({ format: 'json', report: (d) => seen.push([d.code, d.count]) }), toArray())
    .subscribe((out) => {
      lines = out.map((e) => e.line ?? '')
    })
  t.equal(lines.length, 2, 'both entries are kept')
  t.ok(
    lines.every((line) => !line.includes('\n') && JSON.parse(line) !== null),
    `each line is one valid JSON line: ${lines.join(' | ')}`,
  )
  t.equal(
    JSON.parse(lines[0] as string).logkit_invalid_fields,
    '{"a":1}\n{"level":60,"msg":"forged"}',
    'the text is kept as a string',
  )
  t.same(seen, [['fields_invalid', 1]], 'the one entry is reported with a count')
  t.end()
})
