import t from 'tap'
import { type CutLine, LineCutter } from '../src/line.js'

/** A pino destination that asks for pino's metadata and hands each line with it to `take`. */
function metadataDest(take: (line: string, level: number, msg: unknown, time: string) => void) {
  const dest = {
    writable: true,
    lastLevel: 0,
    lastMsg: undefined as unknown,
    lastTime: '',
    write(line: string) {
      take(line, this.lastLevel, this.lastMsg, this.lastTime)
      return true
    },
  }
  Object.defineProperty(dest, Symbol.for('pino.metadata'), { value: true })
  return dest as unknown as NodeJS.WritableStream
}

/** The members a cut took, as text (cut() gives text, cutPino a byte range of the line). */
const membersOf = (c: CutLine) =>
  typeof c.fields === 'string'
    ? c.fields.slice(c.from, Math.max(c.from, c.to))
    : c.fields.toString('utf8', c.from, Math.max(c.from, c.to))

t.test('a pino line: level, time, message and name taken, the rest kept as written', (t) => {
  const cutter = new LineCutter()
  const cut = cutter.cut(
    '{"level":40,"time":1795000000000,"pid":1,"hostname":"h","name":"api","a":{"b":[1,"}",{"c":"\\""}]},"s":"x, y","msg":"hello \\"you\\""}\n',
  )
  t.same(
    { ...cut },
    {
      level: 40,
      time: 1795000000000,
      msg: 'hello "you"',
      name: 'api',
      pid: 1,
      hostname: 'h',
      fields: '{"a":{"b":[1,"}",{"c":"\\""}]},"s":"x, y"}',
      from: 1,
      to: 40,
    },
  )
  t.equal(cutter.notJson, 0)
  t.end()
})

t.test('times: ISO text, seconds, none', (t) => {
  const cutter = new LineCutter()
  t.equal(
    cutter.cut('{"level":30,"time":"2026-11-24T00:00:00.000Z","msg":"m"}').time,
    Date.parse('2026-11-24T00:00:00.000Z'),
  )
  t.equal(cutter.cut('{"level":30,"time":1795000000,"msg":"m"}').time, 1795000000000, 'unixTime seconds')
  const before = Date.now()
  const none = cutter.cut('{"level":30,"msg":"m"}').time
  t.ok(none >= before && none <= Date.now(), 'no time: now')
  t.end()
})

t.test('levels by label, custom labels, and a level that is not one stays a field', (t) => {
  const cutter = new LineCutter({ levels: { audit: 35 }, messageKey: 'message' })
  t.equal(cutter.cut('{"level":"warn","message":"m"}').level, 40)
  t.match(cutter.cut('{"level":"audit","message":"m"}'), { level: 35, msg: 'm', fields: '' })
  t.match(cutter.cut('{"level":"loud","msg":"m"}'), {
    level: 30,
    msg: '',
    fields: '{"level":"loud","msg":"m"}',
  })
  t.match(cutter.cut('{"level":1000}'), { level: 30, fields: '{"level":1000}' })
  t.end()
})

t.test('a line that is not a JSON object is kept whole as the message, and counted', (t) => {
  const cutter = new LineCutter()
  for (const line of [
    'plain text',
    '{"a":1',
    '{"a" 1}',
    '{"a":1 "b":2}',
    '["x"]',
    '{"a":}',
    '{"\\u0041":"\\u00e9"}x',
  ])
    t.match(
      cutter.cut(`${line}\n`),
      { level: 30, msg: line, fields: '', name: '', pid: -1, hostname: '' },
      line,
    )
  t.equal(cutter.notJson, 7)
  t.match(
    cutter.cut('{"\\u0041":"\\u00e9"}'),
    { fields: '{"\\u0041":"\\u00e9"}' },
    'escaped keys read, text kept',
  )
  t.match(cutter.cut('  { "level" : 50 , "msg" : "spaced" }  '), { level: 50, msg: 'spaced' })
  t.end()
})

t.test(
  'cutPino: the same as cut() on every layout pino writes, by its ends when the line is plain',
  async (t) => {
    const { default: pino } = await import('pino')
    interface Written {
      line: string
      level: number
      msg: unknown
      time: string
      logger: number
    }
    const lines: Written[] = []
    let current = 0
    const dest = metadataDest((line, level, msg, time) =>
      lines.push({ line, level, msg, time, logger: current }),
    )
    const options: Record<string, unknown>[] = [
      { level: 'trace' },
      { name: 'api' },
      { name: 'caf\u00e9 "\u2603"' },
      { base: { env: 'prod' }, timestamp: pino.stdTimeFunctions.isoTime },
      { base: { pid: 1, hostname: 'elsewhere' } },
      { timestamp: false, messageKey: 'message' },
      { formatters: { level: (label: string) => ({ level: label }) } },
      { redact: { paths: ['msg', 'secret'], censor: (v: unknown) => '*'.repeat(String(v).length) } },
      { serializers: { msg: (m: unknown) => String(m).toUpperCase() } },
      { hooks: { streamWrite: (s: string) => s.replace('plain', 'PLAIN') } },
    ]
    for (const [i, opts] of options.entries()) {
      current = i
      const log = pino(opts, dest)
      const child = log.child({ reqId: 'r "1"' })
      log.info('plain')
      child.warn({ n: 1, s: ',"msg":"fake"}', secret: 'hunter2' }, 'with "quotes" \u2028')
      child.error(new Error('boom'))
      log.info({ msg: 'in the object' })
      log.info(42 as unknown as string)
      log.info({})
      log.child({ name: 'db' }).info('child name')
      log.child({ a: 1, name: 'late' }).info('late name')
      log.info({ name: 'bob', user: { id: 1, name: 'nested' } }, 'call name')
      log.info(
        { city: 'Z\u00fcrich', party: '\u{1f389}', n: [1, { m: '\u00e9' }] },
        'gr\u00fc\u00dfe \u{1f389}',
      )
    }
    const messageKey = (w: Written) => (w.logger === 5 ? 'message' : 'msg')
    const fast = new LineCutter()
    const fastMessage = new LineCutter({ messageKey: 'message' })
    let same = 0
    for (const w of lines) {
      const cutter = messageKey(w) === 'message' ? fastMessage : fast
      const a = { ...cutter.cutPino(w.line, w.level, w.msg, w.time) }
      const b = { ...new LineCutter({ messageKey: messageKey(w) }).cut(w.line) }
      const ok =
        a.level === b.level &&
        a.msg === b.msg &&
        a.name === b.name &&
        membersOf(a) === membersOf(b) &&
        Math.abs(a.time - b.time) < 1000
      if (ok) same++
      else t.fail(`differs: ${w.line}\n fast ${JSON.stringify(a)}\n slow ${JSON.stringify(b)}`)
    }
    t.equal(same, lines.length, `all ${lines.length} lines cut alike`)
    // Plain loggers' plain lines are read by their ends: 'plain', the child's
    // warn, the error, and the named logger's lines.
    t.ok(fast.fast + fastMessage.fast >= 8, `read by their ends: ${fast.fast + fastMessage.fast}`)
    const redacted = lines.filter((w) => w.logger === 7 && w.line.includes('"msg":"*'))
    t.ok(redacted.length >= 2, 'redacted messages in the lines')
    for (const w of redacted)
      t.notMatch(
        fast.cutPino(w.line, w.level, w.msg, w.time).msg,
        /plain|with/,
        'the redacted text, not pino’s',
      )
  },
)

t.test('a line whose escapes JSON cannot read is kept as text, and the next line is read', (t) => {
  const cutter = new LineCutter()
  const bad = String.raw`{"msg":"C:\dir"}`
  t.match(cutter.cut(bad), { level: 30, msg: bad, fields: '' }, 'kept whole as the message')
  t.equal(cutter.notJson, 1)
  t.match(cutter.cut('{"msg":"three"}'), { msg: 'three' }, 'the next line read')
  t.end()
})

t.test('cutPino: lines with characters beyond ASCII are read by their ends, as byte ranges', async (t) => {
  const { default: pino } = await import('pino')
  const cutter = new LineCutter()
  const cuts: { name: string; msg: string; members: string; fields: unknown }[] = []
  const dest = metadataDest((line, level, msg, time) => {
    const c = cutter.cutPino(line, level, msg, time)
    cuts.push({ name: c.name, msg: c.msg, members: membersOf(c), fields: c.fields })
  })
  const log = pino({ name: 'caf\u00e9 \u2603' }, dest)
  log.info({ city: 'Z\u00fcrich', party: '\u{1f389}' }, 'gr\u00fc\u00dfe')
  log.warn('\u{1f389} only')
  t.equal(cutter.fast, 2, 'both by their ends')
  t.ok(Buffer.isBuffer(cuts[0]?.fields), 'the members are a range of the line’s bytes')
  t.same(
    cuts.map(({ name, msg, members }) => ({ name, msg, members })),
    [
      {
        name: 'caf\u00e9 \u2603',
        msg: 'gr\u00fc\u00dfe',
        members: '"city":"Z\u00fcrich","party":"\u{1f389}"',
      },
      { name: 'caf\u00e9 \u2603', msg: '\u{1f389} only', members: '' },
    ],
  )
})
