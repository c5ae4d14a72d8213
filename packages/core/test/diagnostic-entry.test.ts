import t from 'tap'
import { formatJson } from '../src/format/json.js'
import { diagnosticEntry } from '../src/runtime/pipeline.js'

/** The keys of a JSON object's top level, in order, duplicates kept (JSON.parse keeps only the last). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = []
  let depth = 0
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '"') {
      let j = i + 1
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1
      if (depth === 1 && line[j + 1] === ':') keys.push(JSON.parse(line.slice(i, j + 1)) as string)
      i = j
    } else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return keys
}

t.test("a diagnostic's details never repeat a key of its JSON line", async (t) => {
  const entry = diagnosticEntry(
    {
      code: 'producer_exited',
      stage: 'source',
      component: 'main.sources[0]:shm',
      message: 'producer worker (pid 4242) exited cleanly',
      count: 3,
      details: { pid: 4242, source: 'worker', level: 'x', msg: 'y', code: 'z', hostname: 'h', clean: true },
    },
    'demoapp',
  )
  const line = formatJson(entry)
  const keys = topLevelKeys(line)
  t.same(
    keys.filter((k, i) => keys.indexOf(k) !== i),
    [],
    `no key appears twice in ${line}`,
  )
  const parsed = JSON.parse(line) as Record<string, unknown>
  t.equal(parsed['pid'], process.pid, "pid is the collector's own")
  t.equal(parsed['producer_pid'], 4242, "the producer's pid is producer_pid")
  t.equal(parsed['source'], 'worker', 'a detail that clashes with nothing keeps its name')
  t.equal(parsed['detail_level'], 'x', 'other clashing details are prefixed with detail_')
  t.equal(parsed['detail_msg'], 'y', 'msg too')
  t.equal(parsed['detail_code'], 'z', "and a detail named like the diagnostic's own fields")
  t.equal(parsed['code'], 'producer_exited', "the diagnostic's code stays")
  t.equal(parsed['count'], 3, 'and its count')
})
