// Every `npm install …` line of the README and docs names this repository's
// own packages (or the few third-party ones they are used with): a name of
// someone else's package on npm (the bare `logkit` is one) installs the wrong
// thing.

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('../../../', import.meta.url))
/** Packages logkit's docs tell users to install beside its own. */
const THIRD_PARTY = new Set(['rxjs', 'pino', 'zod'])

function markdownFiles(): string[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).map((f) => join('docs', f))]
  for (const dir of readdirSync(join(root, 'packages'))) files.push(join('packages', dir, 'README.md'))
  return files.filter((f) => f.endsWith('.md'))
}

const ours = new Set(
  readdirSync(join(root, 'packages')).map(
    (dir) =>
      (JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as { name: string })
        .name,
  ),
)

t.test('the packages the docs install are ours (or the third-party ones they go with)', (t) => {
  let lines = 0
  for (const file of markdownFiles()) {
    const text = readFileSync(join(root, file), 'utf8')
    for (const match of text.matchAll(/npm (?:install|i) ([^`|)\n#[]+)/g)) {
      lines++
      const names = (match[1] as string).split(/\s+/).filter((w) => w !== '' && !w.startsWith('-'))
      for (const name of names) {
        t.ok(ours.has(name) || THIRD_PARTY.has(name), `${file}: npm install ${name}`)
      }
    }
  }
  t.ok(lines >= 8, `found the install lines (${lines})`)
  t.ok(ours.has('@logkit/cli'), 'the CLI is published under the scope')
  t.notOk(ours.has('logkit'), 'no package takes the bare name, which is someone else’s on npm')
  t.end()
})
