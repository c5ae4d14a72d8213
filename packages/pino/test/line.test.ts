import t from 'tap'
import { LineCutter } from '../src/line.js'

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

t.test('cutPino: the ends compared, the members between taken as they are, the same as cut()', async (t) => {
  const { default: pino } = await import('pino')
  const lines: { line: string; level: number; msg: unknown; time: string }[] = []
  const dest = {
    writable: true,
    lastLevel: 0,
    lastMsg: undefined as unknown,
    lastTime: '',
    write(line: string) {
      lines.push({ line, level: this.lastLevel, msg: this.lastMsg, time: this.lastTime })
      return true
    },
  }
  Object.defineProperty(dest, Symbol.for('pino.metadata'), { value: true })
  const loggers = [
    pino({ level: 'trace' }, dest),
    pino({ name: 'api', level: 'trace' }, dest),
    pino({ base: { env: 'prod' }, timestamp: pino.stdTimeFunctions.isoTime }, dest),
    pino({ timestamp: false, messageKey: 'message' }, dest),
    pino({ formatters: { level: (label) => ({ level: label }) } }, dest),
  ]
  for (const log of loggers) {
    const child = log.child({ reqId: 'r "1"' })
    log.info('plain')
    child.warn({ n: 1, s: ',"msg":"fake"}' }, 'with "quotes"')
    child.error(new Error('boom'))
    log.info({ msg: 'in the object' })
    log.info(42 as unknown as string)
    log.info({})
  }
  const fast = new LineCutter()
  const slow = new LineCutter()
  const withKey = new LineCutter({ messageKey: 'message' })
  let same = 0
  for (const { line, level, msg, time } of lines) {
    const cutter = line.includes('"message"') ? withKey : fast
    const a = { ...cutter.cutPino(line, level, msg, time) }
    const b = { ...(line.includes('"message"') ? new LineCutter({ messageKey: 'message' }) : slow).cut(line) }
    const members = (c: typeof a) => c.fields.slice(c.from, Math.max(c.from, c.to))
    if (
      a.level === b.level &&
      a.msg === b.msg &&
      a.name === b.name &&
      members(a) === members(b) &&
      Math.abs(a.time - b.time) < 1000
    )
      same++
    else t.fail(`differs: ${line} ${JSON.stringify(a)} ${JSON.stringify(b)}`)
  }
  t.equal(same, lines.length, `all ${lines.length} lines cut alike`)
})
