// The `logkit` command as npm links it in this repository (node_modules/.bin),
// run through its own shebang and mode: what `npx logkit` runs after the
// README's `npm ci`. npx is told not to install anything, so a missing link
// fails here instead of fetching an unrelated package of that name.

import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const bin = fileURLToPath(new URL('../bin/logkit.js', import.meta.url))

t.test('the committed bin is executable and npx runs it without installing', (t) => {
  t.ok((statSync(bin).mode & 0o111) !== 0, 'bin/logkit.js has the execute bit')
  const result = spawnSync('npx', ['--no', '--', 'logkit', '--help'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  t.equal(result.status, 0, `exit 0 (${result.stderr})`)
  t.match(result.stdout, /^Usage: logkit /, 'the usage of this CLI')
  t.end()
})
