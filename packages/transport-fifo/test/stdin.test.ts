// The stdin source: NDJSON lines as pino writes them become entries with their
// fields (raw JSON kept), other lines messages; lines are bounded; demand and
// intake are respected; the stream is never destroyed.

import { PassThrough } from 'node:stream'
import { createPipeline, DemandController, type Diagnostic, type LogEntry, useSource } from '@logkit/core'
import { createMemorySink } from '@logkit/core/testing'
import { lastValueFrom, toArray } from 'rxjs'
import t from 'tap'
import { createStdinSource, definitions, parseLine, stdinSource } from '../src/index.js'
import { topLevelMembers, withoutMembers } from '../src/ndjson.js'
import { waitFor } from './helpers.js'

const defaults = { app: 'shop', source: 'stdin', hostname: 'here', seq: 7 }

function context() {
  const abort = new AbortController()
  const demand = new DemandController()
  const diagnostics: Diagnostic[] = []
  return {
    ctx: {
      app: 'shop',
      demand,
      signal: abort.signal,
      report: (d: Partial<Diagnostic>) => diagnostics.push(d as Diagnostic),
    },
    abort: () => abort.abort(),
    demand,
    diagnostics,
  }
}

t.test('a pino line becomes an entry: its own keys taken, every other member kept as raw JSON', (t) => {
  const line =
    '{"level":50,"time":1700000000123,"pid":4242,"hostname":"web-1","name":"checkout","msg":"payment failed","orderId":12345678901234567890,"err":{"type":"Error","message":"declined"},"tags":["a","b"]}'
  const e = parseLine(line, defaults)
  t.match(
    e,
    {
      level: 50,
      time: 1_700_000_000_123_000_000n,
      pid: 4242,
      hostname: 'web-1',
      source: 'checkout',
      msg: 'payment failed',
      app: 'shop',
      seq: 7,
    },
    'level, time, pid, hostname, name and msg taken',
  )
  t.equal(
    e.fields.json,
    '{"orderId":12345678901234567890,"err":{"type":"Error","message":"declined"},"tags":["a","b"]}',
    'the rest is the raw text: an integer beyond double precision survives',
  )
  t.end()
})

t.test('lines that are not pino-shaped still become entries', (t) => {
  const text = parseLine('GET /health 200 3ms', defaults)
  t.match(
    text,
    { msg: 'GET /health 200 3ms', level: 30, source: 'stdin', pid: 0, hostname: 'here' },
    'text → message',
  )
  t.ok(text.fields.isEmpty, 'with no fields')
  t.equal(parseLine('{"broken": ', defaults).msg, '{"broken": ', 'invalid JSON is text')
  t.equal(parseLine('[1,2]', defaults).msg, '[1,2]', 'JSON that is no object is text')
  const plain = parseLine('{"a":1,"b":{"c":[1,{"d":"}"}]}}', defaults)
  t.equal(
    plain.fields.json,
    '{"a":1,"b":{"c":[1,{"d":"}"}]}}',
    'an object without pino keys is kept whole, untouched',
  )
  t.equal(plain.level, 30, 'at info')
  const odd = parseLine(
    '{"level":"WARN","time":"2024-01-02T03:04:05.678Z","message":"from winston","pid":-1}',
    defaults,
  )
  t.match(
    odd,
    { level: 40, msg: 'from winston', time: 1_704_164_645_678_000_000n },
    'level names, ISO time, message',
  )
  t.equal(odd.fields.json, '{"pid":-1}', 'a value that cannot be what its key says stays a field')
  const unknown = parseLine('{"level":"notice","msg":{"not":"text"},"message":"ignored"}', defaults)
  t.equal(unknown.level, 30, 'an unknown level name: info')
  t.equal(unknown.msg, '', 'msg that is not text: no message')
  t.same(
    unknown.fields.value,
    { level: 'notice', msg: { not: 'text' }, message: 'ignored' },
    'all kept as fields',
  )
  const traced = parseLine(
    '{"msg":"x","trace_id":"0123456789ABCDEF0123456789abcdef","span_id":"0123456789abcdef","time":-5}',
    defaults,
  )
  t.match(
    traced,
    { traceId: '0123456789abcdef0123456789abcdef', spanId: '0123456789abcdef' },
    'trace context',
  )
  t.equal(traced.fields.json, '{"time":-5}', 'a time that is no time stays a field')
  t.end()
})

t.test('members are cut out of the text exactly, escapes and spacing included', (t) => {
  const json = '{ "a\\"b" : "x,}" , "msg" :\t[1, {"k": "v"}] , "n": -1.5e3 }'
  t.same(
    topLevelMembers(json).map((m) => m.key),
    ['a"b', 'msg', 'n'],
    'keys decoded',
  )
  t.equal(
    withoutMembers(json, new Set(['msg'])),
    '{"a\\"b" : "x,}",\n"n": -1.5e3}'.replace(',\n', ','),
    'the others kept verbatim',
  )
  t.equal(withoutMembers('{"msg":"only"}', new Set(['msg'])), '{}', 'nothing left: empty object')
  t.end()
})

t.test('a stream of lines: NDJSON and text, CRLF, blank lines, a last line without newline', async (t) => {
  const { ctx } = context()
  const stream = new PassThrough()
  const all = lastValueFrom(createStdinSource({ stream }, ctx).pipe(toArray()))
  stream.write('{"level":30,"msg":"first"}\r\nplain ')
  stream.write('text\n\n\r\n{"msg":"third","user":{"id":1}}\nno newline at the end')
  stream.end()
  const got = await all
  t.same(
    got.map((e) => e.msg),
    ['first', 'plain text', 'third', 'no newline at the end'],
    'four entries, chunk boundaries and blank lines notwithstanding',
  )
  t.same(
    got.map((e) => e.seq),
    [1, 2, 3, 4],
    'numbered in order',
  )
  t.same(got[2]?.fields.value, { user: { id: 1 } }, 'fields of a JSON line')
})

t.test('over-long lines are cut to the bound, and counted', async (t) => {
  const { ctx, diagnostics } = context()
  const stream = new PassThrough()
  const all = lastValueFrom(createStdinSource({ stream, maxLineBytes: 100 }, ctx).pipe(toArray()))
  stream.write(`${'a'.repeat(60)}`)
  stream.write(`${'a'.repeat(90)}\nshort\n{"msg":"${'b'.repeat(200)}"}\n`)
  stream.end()
  const got = await all
  t.equal(got.length, 3, 'every line is an entry')
  t.equal(got[0]?.msg, 'a'.repeat(100), 'a long line keeps its first 100 bytes')
  t.same(got[0]?.fields.value, { truncated: true, cutBytes: 50 }, 'and says how much was cut')
  t.equal(got[1]?.msg, 'short', 'the next line is whole')
  t.match(got[2]?.msg, /^\{"msg":"b+$/, 'a cut JSON line is kept as text')
  const cut = diagnostics.filter((d) => d.code === 'line_truncated')
  t.equal(
    cut.reduce((n, d) => n + (d.count ?? 0), 0),
    2,
    'two lines reported as cut',
  )
  t.equal(
    cut.reduce((n, d) => n + (d.details?.['bytes'] as number), 0),
    50 + 110, // 210-byte JSON line cut to 100
    'with the bytes dropped',
  )
})

t.test('paused demand pauses the stream; intake stopping ends the source with what it holds', async (t) => {
  const { ctx, demand, abort } = context()
  const stream = new PassThrough()
  const got: LogEntry[] = []
  let completed = false
  createStdinSource({ stream }, ctx).subscribe({
    next: (e) => got.push(e),
    complete: () => (completed = true),
  })
  demand.block('test')
  stream.write('one\n')
  await waitFor(() => got.length === 1, 'the first line')
  t.ok(stream.isPaused(), 'the stream is paused while demand is')
  stream.write('two\n')
  await new Promise((r) => setTimeout(r, 20))
  t.equal(got.length, 1, 'nothing read while paused')
  demand.unblock('test')
  await waitFor(() => got.length === 2, 'the second line after demand resumed')
  stream.write('half a line')
  await new Promise((r) => setImmediate(r))
  abort()
  t.ok(completed, 'intake stopping completes the source')
  t.same(
    got.map((e) => e.msg),
    ['one', 'two', 'half a line'],
    'with the line in hand emitted',
  )
  t.equal(stream.listenerCount('data'), 0, 'and lets go of the stream')
  t.equal(stream.destroyed, false, 'without destroying it: it is usually the process’s own stdin')
})

t.test('a read error is reported and ends the source', async (t) => {
  const { ctx, diagnostics } = context()
  const stream = new PassThrough()
  const all = lastValueFrom(createStdinSource({ stream }, ctx).pipe(toArray()))
  stream.write('before\n')
  stream.emit('error', new Error('EIO'))
  t.same(
    (await all).map((e) => e.msg),
    ['before'],
    'what came before is kept',
  )
  t.match(diagnostics, [{ code: 'stdin_failed', level: 50 }], 'the failure is a diagnostic')
})

t.test('use: stdin in a pipeline', async (t) => {
  t.equal(definitions.stdin, stdinSource, 'the definition is there by its manifest name')
  const stream = new PassThrough()
  const sink = createMemorySink()
  const pipeline = createPipeline({
    app: 'shop',
    sources: [useSource(stdinSource, { stream })],
    sinks: [sink],
  })
  await pipeline.start()
  stream.end('{"level":40,"msg":"careful","name":"cart"}\n')
  await pipeline.closed
  t.match(
    sink.entries,
    [{ level: 40, msg: 'careful', source: 'cart', app: 'shop' }],
    'the entry reached the sink',
  )
  const aborted = createStdinSource(
    { stream: new PassThrough() },
    { ...context().ctx, signal: AbortSignal.abort() },
  )
  t.same(
    await lastValueFrom(aborted.pipe(toArray())),
    [],
    'subscribed after intake stopped: completes at once',
  )
  t.throws(
    () => createStdinSource({ maxLineBytes: 1 }, context().ctx),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'options are validated',
  )
})
