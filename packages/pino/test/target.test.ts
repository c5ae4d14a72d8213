import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { produced, run, startCollector } from './helpers.js'

const COUNT = 20_000

for (const via of ['shm', 'fifo']) {
  t.test(
    `4 processes through the target (${via}), process.exit() after the last call: every entry once`,
    async (t) => {
      const c = await startCollector('pinoapp', via === 'fifo' ? '      - use: fifo\n' : '')
      t.teardown(() => c.stop())
      const n = via === 'shm' ? COUNT : COUNT / 4
      const runs = await Promise.all(
        [0, 1, 2, 3].map((p) =>
          run({ ...c, env: { ...c.env, VIA: via } }, 'target.mjs', [String(n), `p${p}`]),
        ),
      )
      for (const r of runs) t.equal(r.code, 0, `${r.signal} ${r.stderr}`)
      const entries = produced(await c.waitFor((e) => produced(e).length >= 4 * n, 60_000))
      t.equal(entries.length, 4 * n, 'as many entries as logged')
      for (let p = 0; p < 4; p++) {
        const mine = entries.filter((e) => e['producer'] === `p${p}`)
        t.equal(new Set(mine.map((e) => e['i'])).size, n, `p${p}: every entry once`)
        t.match(mine[0], { level: 30, msg: 'request completed', name: `p${p}` })
      }
    },
  )
}

t.test('targets [@logkit/pino at warn, pino/file at info]: each gets its lines', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.stop())
  const file = join(c.dir, 'pino-file.log')
  const r = await run(c, 'target.mjs', ['1000', 'multi', file])
  t.equal(r.code, 0, r.stderr)
  const entries = produced(await c.waitFor((e) => produced(e).length >= 500))
  t.equal(entries.length, 500, 'logkit: the warn lines only')
  t.ok(
    entries.every((e) => e['level'] === 40),
    'all at warn',
  )
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
  t.equal(lines.length, 1000, 'pino/file: info and warn')
})

t.test('pino 9 from CommonJS, a custom level and messageKey', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.stop())
  const r = await run(c, 'target9.cjs', ['1000', 'cjs'])
  t.equal(r.code, 0, r.stderr)
  const entries = produced(await c.waitFor((e) => produced(e).length >= 1000))
  t.equal(entries.length, 1000)
  t.match(entries[999], { level: 35, msg: 'audited', i: 1000, name: 'cjs' })
})

t.test(
  'the target run in this thread (as pino’s worker runs it): lines in, entries out, close says goodbye',
  async (t) => {
    const c = await startCollector()
    t.teardown(() => c.stop())
    const { default: logkitTarget } = await import('../src/index.js')
    const stream = await logkitTarget({ app: c.app, source: 'inthread', env: c.env, capacity: 1024 * 1024 })
    stream.write('{"level":40,"time":1795000000000,"pid":1,"hostname":"h","k":1,"msg":"one"}\n')
    stream.write('not json\n')
    const closed = new Promise((resolve) => stream.once('close', resolve))
    stream.end()
    await closed
    const entries = produced(await c.waitFor((e) => produced(e).length >= 2))
    t.match(entries, [
      { level: 40, msg: 'one', k: 1, name: 'inthread', time: 1795000000000 },
      { level: 30, msg: 'not json' },
    ])
  },
)
