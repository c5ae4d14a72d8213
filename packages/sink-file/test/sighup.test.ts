// External logrotate against a running collector in another process: the
// file is renamed under it and it gets SIGHUP. It must start a new file at the
// path, and the two files together must hold every entry exactly once.

import { existsSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { startCollector } from './child.js'
import { linesOf } from './helpers.js'

t.test('SIGHUP after an external rename: a new file, and nothing lost', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'app.log')
  const collector = startCollector(path, 1, {})
  await collector.reports(5)
  renameSync(path, join(dir, 'app.log.1'))
  collector.child.kill('SIGHUP')
  // Keep going until the reopen has made a new file and written into it.
  while (!existsSync(path) || statSync(path).size === 0) await collector.reports(1)
  await collector.reports(3)
  collector.child.kill('SIGTERM')
  const exit = await collector.exited
  t.equal(exit.code, 0, 'the collector survived SIGHUP and exited cleanly on SIGTERM')

  const rotated = linesOf(join(dir, 'app.log.1')).map((l) => JSON.parse(l).n as number)
  const fresh = linesOf(path).map((l) => JSON.parse(l).n as number)
  t.ok(rotated.length >= 500, `the renamed file has what came before the reopen (${rotated.length})`)
  t.ok(fresh.length >= 300, `the new file has what came after it (${fresh.length})`)
  t.equal(statSync(path).mode & 0o777, 0o600, 'the new file is created 0600')
  t.same(
    [...rotated, ...fresh],
    Array.from({ length: exit.closed ?? -1 }, (_, i) => i + 1),
    `every one of the ${exit.closed} entries logged is in one of the two files, once, in order`,
  )
  t.equal(exit.written, exit.closed, 'and the sink wrote as many as were logged')
})
