import t from 'tap'
import { jsonMembers, jsonString } from '../src/json-members.js'

function members(text: string): { ok: boolean; found: [string, string][] } {
  const found: [string, string][] = []
  const ok = jsonMembers(text, text.length, (kf, kt, vf, vt) => {
    found.push([jsonString(text, kf, kt), text.slice(vf, vt)])
  })
  return { ok, found }
}

t.test('members by their structure: strings, nesting, escapes, space around', (t) => {
  t.same(members(' { "a" : 1 , "b\\"q":"x,}\\"y", "c":{"d":[1,"]",{}]},"e":true,"f":null,"g":-1.5e3 }\n'), {
    ok: true,
    found: [
      ['a', '1'],
      ['b"q', '"x,}\\"y"'],
      ['c', '{"d":[1,"]",{}]}'],
      ['e', 'true'],
      ['f', 'null'],
      ['g', '-1.5e3'],
    ],
  })
  t.same(members('{}'), { ok: true, found: [] })
  t.end()
})

t.test('text that is not one object: false', (t) => {
  for (const text of [
    '',
    'x',
    '[1]',
    '{"a":1',
    '{"a" 1}',
    '{"a":1 "b":2}',
    '{"a":}',
    '{a:1}',
    '{"a":"open}',
    '{"a":{"b":1}',
  ])
    t.equal(members(text).ok, false, text)
  t.throws(() => jsonString('"bad \\q"', 0, 8), SyntaxError)
  t.end()
})
