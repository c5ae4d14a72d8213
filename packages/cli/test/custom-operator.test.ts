// A new user's custom operator, as docs/operators.md shows it, copied into an
// app made with `npm init -y` (package.json "type": "commonjs") that has its
// own zod 3: validated by `logkit validate`, then run by `logkit compose`
// with a real producer (`logkit emit` over shm). The file is the docs' code
// block itself, so the docs and this test move together.

import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { privateRuntimeEnv, waitFor } from '@logkit/core/testing'
import t from 'tap'
import { cliBin, runCli, startNode } from './helpers.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** The code block of docs/operators.md that starts with `// ops/<name>`. */
function docsFile(name: string): string {
  const docs = readFileSync(join(root, 'docs', 'operators.md'), 'utf8')
  const block = docs.split('```js\n').find((b) => b.startsWith(`// ops/${name}\n`))
  if (block === undefined) throw new Error(`docs/operators.md has no code block for ops/${name}`)
  return block.slice(0, block.indexOf('```'))
}

/** An app folder as `npm init -y` leaves it, with zod 3 and logkit's packages installed (linked). */
function appFolder(work: string): string {
  const app = join(work, 'app')
  mkdirSync(join(app, 'node_modules', '@logkit'), { recursive: true })
  mkdirSync(join(app, 'ops'))
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'app', version: '1.0.0', main: 'index.js', type: 'commonjs' }, null, 2)}\n`,
  )
  symlinkSync(join(root, 'node_modules', 'zod3'), join(app, 'node_modules', 'zod'))
  symlinkSync(join(root, 'node_modules', 'rxjs'), join(app, 'node_modules', 'rxjs'))
  symlinkSync(join(root, 'packages', 'core'), join(app, 'node_modules', '@logkit', 'core'))
  return app
}

function manifest(app: string, use: string, mask: string, out: string): string {
  const file = join(app, 'logkit.yaml')
  writeFileSync(
    file,
    [
      'version: 1',
      'app: opsapp',
      'pipelines:',
      '  main:',
      '    sources:',
      '      - use: shm',
      '    operators:',
      `      - use: ${use}`,
      `        mask: ${mask}`,
      '    sinks:',
      '      - use: file',
      `        path: ${out}`,
      '',
    ].join('\n'),
  )
  return file
}

t.test('the docs’ custom operator works as copied into an npm init -y app with zod 3', async (t) => {
  const { work, ...env } = privateRuntimeEnv('logkit-cli-ops-')
  const app = appFolder(work)
  const code = docsFile('mask-emails.mjs')
  writeFileSync(join(app, 'ops', 'mask-emails.mjs'), code)
  const out = join(work, 'out.log')
  const file = manifest(app, './ops/mask-emails.mjs', "'[email]'", out)

  const valid = await runCli(['validate', file], env, app)
  t.equal(valid.code, 0, `validate: ok (${valid.stderr})`)

  const compose = startNode([cliBin, 'compose', file], env, app)
  t.teardown(() => {
    if (compose.process.exitCode === null) compose.process.kill('SIGKILL')
  })
  await waitFor(() => compose.stderr().includes('main: shm → maskEmails → file'), 'compose running', 60_000)
  const emit = startNode([cliBin, 'emit', '--app', 'opsapp', '--via', 'shm', '--source', 'signup'], env, app)
  // Several entries in a row: an operator that keeps state between entries shows it here.
  emit.process.stdin?.end(
    [
      'welcome bob@example.com',
      'welcome ann@example.org',
      '{"msg":"mail sent","to":"carl@example.net"}',
      'no address here',
    ].join('\n'),
  )
  t.equal((await emit.exit).code, 0, 'emit delivered its lines')
  await waitFor(
    () => {
      try {
        return readFileSync(out, 'utf8').split('\n').filter(Boolean).length >= 4
      } catch {
        return false
      }
    },
    'the entries in the file',
    60_000,
  )
  compose.process.kill('SIGTERM')
  t.equal((await compose.exit).code, 0, `compose exits 0 (${compose.stderr().slice(-300)})`)
  const entries = readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['name'] === 'signup')
  t.same(
    entries.map((e) => [e['msg'], e['to']]),
    [
      ['welcome [email]', undefined],
      ['welcome [email]', undefined],
      ['mail sent', '[email]'],
      ['no address here', undefined],
    ],
    'every address masked, in the message and in the fields',
  )

  // The same operator with the app's own zod 3 (a Standard Schema) instead of logkit's.
  writeFileSync(
    join(app, 'ops', 'mask-zod3.mjs'),
    code.replace("import { z } from '@logkit/core/options'", "import { z } from 'zod'"),
  )
  t.match(readFileSync(join(app, 'ops', 'mask-zod3.mjs'), 'utf8'), "from 'zod'")
  const zod3 = await runCli(['validate', manifest(app, './ops/mask-zod3.mjs', "'[x]'", out)], env, app)
  t.equal(zod3.code, 0, `zod 3 schema: validate ok (${zod3.stderr})`)
  const bad = await runCli(['validate', manifest(app, './ops/mask-zod3.mjs', '5', out)], env, app)
  t.equal(bad.code, 2, 'a wrong option against the zod 3 schema: exit 2')
  t.match(
    bad.stderr,
    /logkit\.yaml:9:\d+ .*mask.*\[LOGKIT_ERR_MANIFEST_OPTION_INVALID\]/,
    'at its line and column',
  )

  // The docs' code as a .js file in this CommonJS app: the error says why and what to do.
  writeFileSync(join(app, 'ops', 'mask-emails.js'), code)
  const cjs = await runCli(['validate', manifest(app, './ops/mask-emails.js', "'[x]'", out)], env, app)
  t.equal(cjs.code, 2, 'an ES module named .js in a commonjs app: exit 2')
  t.match(cjs.stderr, /name the file \.mjs, or set "type": "module"/, 'the error says how to fix it')
})
