// The multi-process demo runs to its end by itself: the collector, three
// workers, the crash of one, its salvaged entries and reported exit, totals.

import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { startNode } from './helpers.js'

const demo = fileURLToPath(new URL('../../../examples/demo/main.js', import.meta.url))

t.test(
  'the demo finishes by itself: worker crash reported, its entries salvaged, totals printed',
  async (t) => {
    const logs = tempDir('logkit-demo-test-')
    t.teardown(() => rmSync(logs, { recursive: true, force: true }))
    const exit = await startNode([demo], { DEMO_LOGS: logs }).exit
    t.equal(exit.code, 0, `the demo exits 0 (${exit.stderr.slice(-500)})`)
    t.match(exit.stderr, 'indexer exited with code 3', 'the crash of the indexer is reported')
    const totals =
      /main: (\d+) in; (?:(\d+) diagnostic entries; )?(\d+) out; (?:filtered: (\d+); )?written: file \d+, console \d+; dropped: rateLimit (\d+)/.exec(
        exit.stderr,
      )
    t.ok(totals, `the collector's totals (${exit.stderr.slice(-400)})`)
    const [, into, made, out, filtered, dropped] = (totals ?? []).map((n) => Number(n ?? 0))
    t.ok((filtered as number) > 0, 'the entries the filter kept back are shown')
    t.equal(
      (into as number) + (made as number),
      (out as number) + (filtered as number) + (dropped as number),
      'the totals add up: in + diagnostic entries = out + filtered + dropped',
    )
    t.match(
      exit.stdout + exit.stderr,
      /\d+ from the crashed indexer, \d+ of them read from its ring after it was gone/,
    )
    const lines = readFileSync(join(logs, 'demoapp.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    t.ok(
      lines.some((l) => l['name'] === 'indexer' && l['msg'] === 'indexer crashing now'),
      "the crashed worker's last entry is in the file",
    )
    t.ok(
      lines.some((l) => l['code'] === 'producer_exited' && l['source'] === 'indexer' && l['clean'] === false),
      'the exit of the crashed worker is a warning entry in the file',
    )
    t.ok(
      lines.some((l) => l['name'] === 'validator'),
      'the fifo worker is there',
    )
    t.ok(
      lines.some((l) => l['name'] === 'processor'),
      'the shm worker is there',
    )
  },
)
