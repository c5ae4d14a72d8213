import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { produced, run, startCollector } from './helpers.js'

const COUNT = 20_000

for (const end of ['sigkill', 'sigterm'] as const) {
  t.test(`the destination: ${end} right after the last call loses nothing`, async (t) => {
    const c = await startCollector()
    t.teardown(() => c.stop())
    const r = await run(c, 'destination.mjs', [String(COUNT), end])
    t.equal(r.signal, end.toUpperCase(), `killed by ${end} (${r.stderr})`)
    const entries = produced(await c.waitFor((e) => produced(e).length >= COUNT))
    const seen = new Set(entries.map((e) => e['i']))
    t.equal(entries.length, COUNT, 'every entry once')
    t.equal(seen.size, COUNT, 'no duplicates')
    const last = entries.find((e) => e['i'] === COUNT)
    t.match(last, { level: 30, msg: 'request completed', worker: 7, path: '/api/orders', name: 'dest' })
  })
}

t.test('the destination: flush calls back, end() says goodbye and closes', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.stop())
  const r = await run(c, 'destination.mjs', ['500', 'end'])
  t.equal(r.code, 0, r.stderr)
  t.same(JSON.parse(r.stdout), { seq: 500, written: 500, dropped: 0 })
  const entries = produced(await c.waitFor((e) => produced(e).length >= 500))
  t.equal(entries.length, 500)
})

for (const mode of ['plain', 'custom', 'iso', 'nested']) {
  t.test(`pino → logkit → file has pino's keys and values, entry by entry (${mode})`, async (t) => {
    const c = await startCollector()
    t.teardown(() => c.stop())
    const file = join(c.dir, 'pino.log')
    const r = await run(c, 'same-calls.mjs', [file, mode])
    t.equal(r.code, 0, r.stderr)
    const expected = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const actual = produced(await c.waitFor((e) => produced(e).length >= expected.length))
    t.equal(actual.length, expected.length, 'as many entries')
    t.ok(expected.length >= 6, `${expected.length} entries`)
    for (const [i, want] of expected.entries()) {
      const got = { ...actual[i] }
      // The message is logkit's msg whatever key pino wrote it under; an ISO time becomes epoch ms.
      if (mode === 'nested') {
        got['message'] = got['msg']
        delete got['msg']
      }
      if (mode === 'iso') want['time'] = Date.parse(want['time'] as string)
      const picked = Object.fromEntries(Object.keys(want).map((k) => [k, got[k]]))
      t.same(picked, want, `entry ${i}: ${JSON.stringify(want).slice(0, 80)}`)
    }
  })
}

t.test(
  'the destination in this process: pino lines, flush, end, stats and lines that are not pino’s',
  async (t) => {
    const c = await startCollector()
    t.teardown(() => c.stop())
    const { default: pino } = await import('pino')
    const { logkitDestination } = await import('../src/index.js')
    const dest = logkitDestination({
      app: c.app,
      source: 'inproc',
      env: c.env,
      capacity: 1024 * 1024,
      policy: 'drop',
      blockMs: 10,
    })
    const log = pino({ name: 'here' }, dest)
    log.info({ k: 1 }, 'first')
    log.child({ c: true }).warn('second')
    // Written by hand: no metadata from pino, two lines in one chunk, one not JSON.
    dest.write(Buffer.from('{"level":50,"time":1795000000000,"msg":"by hand"}\nnot json at all\n'))
    await new Promise<void>((resolve, reject) => log.flush((err) => (err ? reject(err) : resolve())))
    dest.flushSync()
    t.equal(dest.notJson, 1)
    t.match(dest.stats, { written: 4, dropped: 0 })
    t.equal(dest.writable, true)
    const closed = new Promise((resolve) => dest.once('close', resolve))
    dest.end()
    dest.end()
    await closed
    t.equal(dest.writable, false)
    const entries = produced(await c.waitFor((e) => produced(e).length >= 4))
    t.match(entries, [
      { msg: 'first', k: 1, name: 'here', level: 30 },
      { msg: 'second', c: true, name: 'here', level: 40 },
      { msg: 'by hand', level: 50, time: 1795000000000, name: 'inproc' },
      { msg: 'not json at all', level: 30 },
    ])
  },
)
