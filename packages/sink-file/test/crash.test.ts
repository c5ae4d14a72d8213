// SIGKILL of a collector while it writes, three times on the same path, then
// a clean restart: every line of every file is whole JSON, lines of one run are
// never interleaved or reordered, everything a run reported durable before it
// was killed is on disk, and the files left mid-rotation are recovered.

import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { createFileSink } from '../src/index.js'
import { startCollector } from './child.js'
import { entries, linesOf, rotatedFiles } from './helpers.js'

const OPTIONS = { rotate: { size: '256KiB', compress: true } }

const indexOf = (file: string) => Number(/\.(\d+)\.log(?:\.gz)?$/.exec(file)?.[1])

interface Line {
  run: number
  n: number
}

/** Every file in the folder that holds lines, each checked to be whole JSON lines. */
function checkEveryFile(t: Test, dir: string): void {
  for (const name of readdirSync(dir)) {
    // The sink's ownership record (.app.log.logkit) is not a log file.
    if (name.endsWith('.partial') || name.startsWith('.')) continue
    const lines = linesOf(join(dir, name))
    const bad = lines.filter((line) => {
      try {
        JSON.parse(line)
        return false
      } catch {
        return true
      }
    })
    t.same(bad, [], `${name}: all ${lines.length} lines are whole JSON`)
  }
}

t.test('SIGKILL while writing loses nothing acknowledged and leaves only whole lines', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  const acknowledged: number[] = []
  for (const [run, rounds] of [
    [1, 12],
    [2, 25],
    [3, 7],
  ] as const) {
    const collector = startCollector(path, run, OPTIONS)
    await collector.reports(rounds)
    // The child is already writing its next round when the kill lands.
    collector.child.kill('SIGKILL')
    const exit = await collector.exited
    t.equal(exit.signal, 'SIGKILL', `run ${run} was killed`)
    acknowledged[run] = collector.durable
    t.ok(collector.durable >= rounds * 100, `run ${run} acknowledged ${collector.durable} entries first`)
    checkEveryFile(t, dir)
  }

  const lines: Line[] = [...rotatedFiles(path), path].flatMap(linesOf).map((l) => JSON.parse(l) as Line)
  for (const run of [1, 2, 3]) {
    const ns = lines.filter((l) => l.run === run).map((l) => l.n)
    const want = acknowledged[run] as number
    t.same(
      ns.slice(0, want),
      Array.from({ length: want }, (_, i) => i + 1),
      `run ${run}: entries 1..${want} (all it acknowledged) are on disk, once each, in order`,
    )
    t.ok(
      ns.every((n, i) => i === 0 || n === (ns[i - 1] as number) + 1),
      `run ${run}: what was written past the acknowledgement is still contiguous (no torn or interleaved line)`,
    )
  }
  t.same(
    lines.map((l) => l.run),
    [...lines.map((l) => l.run)].sort(),
    'the runs follow each other: each restart continued after the previous one',
  )

  // A clean restart finishes whatever the kills interrupted.
  const before = rotatedFiles(path).map(indexOf)
  const sink = createFileSink({ path, ...OPTIONS })
  await sink.write(entries(1))
  await sink.rotate()
  await sink.close()
  const names = readdirSync(dir)
  t.notOk(
    names.some((n) => n.endsWith('.partial')),
    'no partial gzip is left',
  )
  t.notOk(
    names.some((n) => /\.\d+\.log$/.test(n)),
    'every rotated file is compressed, no original is left beside its .gz',
  )
  const after = rotatedFiles(path).map(indexOf)
  t.equal(after.at(-1), Math.max(0, ...before) + 1, 'the next rotation takes the next number')
})
