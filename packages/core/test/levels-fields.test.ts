import t from 'tap'
import { createEntry } from '../src/entry.js'
import { Fields } from '../src/fields.js'
import { formatJson } from '../src/format/json.js'
import { JsonLineWriter } from '../src/format/json-bytes.js'
import {
  levelName,
  levels,
  levelToSeverity,
  parseLevel,
  severityNumbers,
  severityToLevel,
} from '../src/levels.js'
import { msToNs, nowNs, nsToIso, nsToMs } from '../src/time.js'

t.test('pino levels and OpenTelemetry severities map both ways', (t) => {
  for (const [name, level] of Object.entries(levels)) {
    const severity = severityNumbers[name as keyof typeof levels]
    t.equal(levelToSeverity(level), severity, `${name} → ${severity}`)
    t.equal(severityToLevel(severity), level, `${severity} → ${name}`)
    t.equal(levelName(level), name, `${level} is named ${name}`)
  }
  t.equal(severityToLevel(11), 30, 'INFO3 (11) is info')
  t.equal(severityToLevel(24), 60, 'FATAL4 (24) is fatal')
  t.equal(levelToSeverity(35), 9, 'a custom level between info and warn is in info’s band')
  t.equal(levelName(5), 'trace', 'below trace is still named trace')
  t.end()
})

t.test('parseLevel takes names in any case and numbers, and refuses the rest', (t) => {
  t.equal(parseLevel('WARN'), 40, 'name in capitals')
  t.equal(parseLevel(35), 35, 'a number')
  t.equal(parseLevel('50'), 50, 'a number as text')
  t.throws(() => parseLevel('loud'), { code: 'LOGKIT_ERR_LEVEL_UNKNOWN' })
  t.throws(() => parseLevel(1000), { code: 'LOGKIT_ERR_LEVEL_UNKNOWN' })
  t.end()
})

t.test('time helpers keep nanoseconds and convert to pino milliseconds', (t) => {
  const a = nowNs()
  const b = nowNs()
  t.ok(b >= a, 'the clock never goes backwards')
  t.ok(Math.abs(nsToMs(a) - Date.now()) < 1000, 'and is anchored to the wall clock')
  t.equal(msToNs(1.5), 1_500_000n, 'fractional ms become ns')
  t.equal(nsToIso(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123Z', 'ISO text with ms')
  t.end()
})

t.test('nsToMs is the exact millisecond, also right at the edges of one', (t) => {
  const exact = (ns: bigint) => Number(ns / 1_000_000n)
  let wrong = 0
  const edges = [0n, 1n, 999n, 1000n, 1023n, 1024n, 1025n, 998_976n, 998_977n, 999_999n]
  for (let i = 0; i < 20_000; i++) {
    const ms = BigInt(Math.floor(Math.random() * 4e12))
    const off = i % 2 === 0 ? (edges[i % edges.length] as bigint) : BigInt(Math.floor(Math.random() * 1e6))
    for (const ns of [ms * 1_000_000n + off, ms * 1_000_000n - off]) if (nsToMs(ns) !== exact(ns)) wrong++
  }
  t.equal(wrong, 0, 'no timestamp lands in the wrong millisecond')
  t.equal(nsToMs(18_446_744_073_709_551_615n), exact(18_446_744_073_709_551_615n), 'the largest fixed64')
  t.equal(nsToMs(-1_500_000n), -1, 'before the epoch, truncated like the BigInt division')
  t.end()
})

t.test('Fields stay raw until asked, and parse once', (t) => {
  const f = Fields.fromJSON('{"a":{"b":[1,2]},"c":"x"}')
  t.equal(f.members, '"a":{"b":[1,2]},"c":"x"', 'members splice without parsing')
  t.equal(f.get('a.b.1'), 2, 'dotted paths reach into arrays')
  t.equal(f.get(['c']), 'x', 'key paths too')
  t.equal(f.get('a.zz.q'), undefined, 'absent paths are undefined')
  t.equal(f.value, f.value, 'parsed once and kept')
  t.ok(Fields.fromJSON('{}').isEmpty, 'empty text is empty')
  t.equal(Fields.of({}), Fields.empty, 'an empty object is the shared empty value')
  t.equal(Fields.of({ x: 1 }).json, '{"x":1}', 'objects stringify lazily')
  const bad = Fields.fromJSON('[1,2]')
  t.same(bad.value, {}, 'a non-object reads as no fields')
  t.notOk(bad.valid, 'and says it was not valid')
  t.notOk(Fields.fromJSON('{"a":').valid, 'broken JSON is not valid either')
  t.equal(Fields.fromJSON('not json').members, '', 'text that is not braced is never spliced')
  t.same(
    JSON.parse(JSON.stringify({ f: Fields.fromJSON('{"k":true}') })),
    { f: { k: true } },
    'toJSON gives the value',
  )
  t.end()
})

/** Names every plain object answers to through its prototype. */
const PROTOTYPE_KEYS = [
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  'CONSTRUCTOR',
  '__PROTO__',
]

t.test('prototype keys are not levels: parseLevel refuses them', (t) => {
  for (const key of PROTOTYPE_KEYS) {
    t.throws(() => parseLevel(key), { code: 'LOGKIT_ERR_LEVEL_UNKNOWN' }, `${JSON.stringify(key)} is refused`)
  }
  t.end()
})

t.test('a level read from user text as a line reader does it renders as valid JSON', (t) => {
  // As the NDJSON reader (transport-fifo/src/ndjson.ts) reads `{"level":…}`: parseLevel,
  // and an unknown level leaves the entry at info.
  const levelOf = (text: string): number => {
    try {
      return parseLevel(text)
    } catch {
      return 30
    }
  }
  const writer = new JsonLineWriter()
  for (const key of PROTOTYPE_KEYS) {
    const entry = createEntry({ level: levelOf(key), msg: key })
    const line = formatJson(entry)
    let parsed: { level?: unknown } | undefined
    try {
      parsed = JSON.parse(line)
    } catch {}
    t.equal(parsed?.level, 30, `{"level":${JSON.stringify(key)}} gives a valid line at info: ${line}`)
    writer.json(entry)
    t.equal(writer.take().toString(), `${line}\n`, `and the byte writer writes the same line for ${key}`)
  }
  t.end()
})

t.test('prototype keys are not fields: a path through constructor or __proto__ finds nothing', (t) => {
  const fields = Fields.fromJSON('{"a":{"b":1},"own":{"constructor":"mine"}}')
  t.equal(fields.get('constructor'), undefined, 'constructor of the fields object')
  t.equal(fields.get('__proto__'), undefined, '__proto__ of the fields object')
  t.equal(fields.get('a.toString'), undefined, 'a method of a nested object')
  t.equal(fields.get(['a', 'b', 'constructor']), undefined, 'a method of a number')
  t.equal(fields.get('own.constructor'), 'mine', 'an own member named constructor is found')
  t.equal(Fields.fromJSON('{"__proto__":{"x":1}}').get('__proto__.x'), 1, 'an own __proto__ member too')
  t.end()
})
