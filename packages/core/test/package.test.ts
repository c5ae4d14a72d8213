// Workspace hoisting hides undeclared dependencies: this fails when a source
// file imports a package that package.json does not declare.

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'

const root = new URL('..', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

function files(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
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

t.test('every package a source file imports is a dependency or peer dependency', (t) => {
  const declared = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ])
  const missing = files('src').flatMap((f) =>
    imported(f)
      .filter((n) => !declared.has(n))
      .map((n) => `${f}: ${n}`),
  )
  t.same(missing, [], 'no undeclared imports in src/')
  t.end()
})

t.test('every package a test imports is declared, dev dependencies included', (t) => {
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
  ])
  const missing = files('test').flatMap((f) =>
    imported(f)
      .filter((n) => !declared.has(n))
      .map((n) => `${f}: ${n}`),
  )
  t.same(missing, [], 'no undeclared imports in test/')
  t.end()
})

t.test('the exports map lists types before default, for require.resolve as well as import', (t) => {
  for (const [key, value] of Object.entries(pkg.exports as Record<string, unknown>)) {
    if (typeof value === 'string') continue
    t.same(Object.keys(value as object), ['types', 'default'], `${key}: conditions are types, then default`)
  }
  t.end()
})
