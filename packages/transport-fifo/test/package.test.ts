// What the package promises from the outside: no undeclared dependency
// (workspace hoisting would hide one), an exports map pino's require.resolve
// can use, an index that only re-exports, and the definitions the CLI looks up.

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isPluginDefinition, PLUGIN_API_VERSION } from '@logkit/core'
import t from 'tap'
import * as api from '../src/index.js'

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
  t.same(Object.keys(pkg.dependencies ?? {}), [], 'and no runtime dependency of its own')
  t.end()
})

t.test('every package a test or fixture imports is declared, dev dependencies included', (t) => {
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

t.test('src/index.ts only re-exports', (t) => {
  const text = readFileSync(join(root, 'src/index.ts'), 'utf8')
  const rest = text.replace(/export (type )?(\*|\{[^}]*\}) from '\.\/[a-z-]+\.js'/g, '').trim()
  t.equal(rest, '', 'nothing but export … from')
  t.end()
})

t.test('the CLI finds `fifo` and `stdin` in definitions, and fifo as the default', (t) => {
  t.equal(api.default, api.fifoSource, 'default is the fifo source')
  t.same(Object.keys(api.definitions).sort(), ['fifo', 'stdin'], 'definitions by manifest name')
  for (const [name, definition] of Object.entries(api.definitions)) {
    t.ok(isPluginDefinition(definition, 'source'), `${name} is a source definition core accepts`)
    t.equal(definition.name, name, `${name} is named as its key`)
    t.equal(definition.apiVersion, PLUGIN_API_VERSION, `${name} is built for this core`)
  }
  t.equal(typeof api.fifo, 'function', 'the producer factory is exported')
  t.end()
})
