// Workspace hoisting hides undeclared dependencies: this fails when a source
// file or a test imports a package that package.json does not declare, and
// checks the exports map works for require.resolve (pino's transport lookup).

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'

const root = new URL('..', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

function files(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : /\.(ts|mjs)$/.test(d.name) ? [join(dir, d.name)] : [],
  )
}

function imported(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8')
  return [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'|^import\s+'([^']+)'/gm)]
    .map((m) => (m[1] ?? m[2]) as string)
    .filter((name) => !name.startsWith('.') && !name.startsWith('node:'))
    .map((name) =>
      name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : (name.split('/')[0] as string),
    )
}

const undeclared = (dir: string, declared: Set<string>) =>
  files(dir).flatMap((f) =>
    imported(f)
      .filter((n) => !declared.has(n))
      .map((n) => `${f}: ${n}`),
  )

t.test('every package a source file imports is a dependency or peer dependency', async (t) => {
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ])
  t.same(
    undeclared('src', declared),
    [],
    'no undeclared imports in src/ (zod comes from @logkit/core, whose copy core checks schemas against)',
  )
})

t.test('every package a test imports is declared, dev dependencies included', async (t) => {
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
  ])
  t.same(undeclared('test', declared), [], 'no undeclared imports in test/')
})

t.test('the exports map lists types before default, for require.resolve as well as import', async (t) => {
  for (const [key, value] of Object.entries(pkg.exports as Record<string, unknown>)) {
    if (typeof value === 'string') continue
    t.same(Object.keys(value as object), ['types', 'default'], `${key}: conditions are types, then default`)
  }
})
