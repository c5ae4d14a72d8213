import t from 'tap'
import { createEntry } from '../src/entry.js'
import { formatJson } from '../src/format/json.js'
import { entryFromJsonLine } from '../src/format/json-line.js'
import { random, randomString } from './helpers.js'

t.test('entryFromJsonLine is formatJson’s inverse, fields named like own keys included', (t) => {
  const e = createEntry({
    level: 40,
    msg: 'hi "x"',
    app: 'a',
    source: 's',
    pid: 3,
    hostname: 'h',
    seq: 7,
    fields: { time: '10:00', name: 'bob', level: 'high', nested: { msg: 'n' }, msg: 'field msg' },
  })
  const line = formatJson(e)
  const back = entryFromJsonLine(line)
  t.match(back, { msg: 'hi "x"', source: 's', level: 40, seq: 7, pid: 3, hostname: 'h', app: 'a' })
  t.same(back?.fields.value, {
    time: '10:00',
    name: 'bob',
    level: 'high',
    nested: { msg: 'n' },
    msg: 'field msg',
  })
  t.equal(back === undefined ? '' : formatJson(back), line, 'the same line again')
  t.equal(entryFromJsonLine('not json'), undefined)
  t.equal(entryFromJsonLine('{"msg":'), undefined)
  t.end()
})

t.test('random entries come back as the same line', (t) => {
  const rnd = random(7)
  const keys = ['time', 'name', 'msg', 'x', 'pid', 'level', 'seq', 'app']
  let same = 0
  for (let i = 0; i < 500; i++) {
    const fields: Record<string, unknown> = {}
    const n = Math.floor(rnd() * 5)
    for (let k = 0; k < n; k++)
      fields[keys[Math.floor(rnd() * keys.length)] as string] = randomString(rnd, 20)
    const e = createEntry({ level: 30, msg: randomString(rnd, 30), source: 'src', seq: i + 1, fields })
    const line = formatJson(e)
    const back = entryFromJsonLine(line)
    if (back !== undefined && formatJson(back) === line) same++
    else t.fail(`differs: ${line}`)
  }
  t.equal(same, 500)
  t.end()
})
