// A write that fails part-way (here: the file-size limit, EFBIG, in a child
// process under `ulimit -f`) rejects its batch so that the runtime retries it,
// cuts the file back to the last whole batch, and the next write carries on.

import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { linesOf } from './helpers.js'

const CHILD = new URL('./fixtures/fsize-child.mjs', import.meta.url).pathname

t.test(
  'a write failing part-way leaves whole lines only, rejects its batch, and the sink goes on',
  async (t) => {
    const path = join(t.testdir(), 'app.log')
    const out = execFileSync(
      'sh',
      ['-c', `ulimit -f 64 && exec "${process.execPath}" "${CHILD}" "${path}"`],
      {
        encoding: 'utf8',
      },
    )
    const { results, reopens } = JSON.parse(out) as {
      results: { ok: boolean; code?: string; last: number }[]
      reopens: number
    }
    t.same(
      results.map((r) => (r.ok ? 'ok' : r.code)),
      ['ok', 'ok', 'ok', 'LOGKIT_ERR_FILE_WRITE', 'ok'],
      'the batch crossing the limit rejects with LOGKIT_ERR_FILE_WRITE; the ones before and after succeed',
    )
    const lines = linesOf(path)
    t.same(
      lines.map((l) => JSON.parse(l).msg),
      [...Array.from({ length: 27 }, (_, i) => `entry ${i + 1}`), 'entry 37'],
      'the file holds the three whole batches before and the one after: nothing of the failed one',
    )
    t.ok(statSync(path).size < 32 * 1024, 'the partial write was cut off')
    t.equal(reopens, 1, 'the sink reopened the file once after the failure')
  },
)

t.test(
  'a large batch whose write fails after its first part is on disk is cut back whole: nothing of it stays',
  async (t) => {
    const path = join(t.testdir(), 'app.log')
    // 128 KiB limit: a ~20 KB batch, then a ~150 KB one (its first ~100 KB
    // fit: the write is short, the next one fails), then a small one.
    const plan = JSON.stringify([
      [20, 1000],
      [150, 1000],
      [1, 10],
    ])
    const out = execFileSync(
      'sh',
      ['-c', `ulimit -f 256 && exec "${process.execPath}" "${CHILD}" "${path}" '${plan}'`],
      { encoding: 'utf8' },
    )
    const { results } = JSON.parse(out) as { results: { ok: boolean; code?: string }[] }
    t.same(
      results.map((r) => (r.ok ? 'ok' : r.code)),
      ['ok', 'LOGKIT_ERR_FILE_WRITE', 'ok'],
      'the large batch rejects; the ones before and after succeed',
    )
    t.same(
      linesOf(path).map((l) => JSON.parse(l).msg),
      [...Array.from({ length: 20 }, (_, i) => `entry ${i + 1}`), 'entry 171'],
      'the file holds the first batch and the last: not one line of the failed one, though part of it had been written',
    )
  },
)
