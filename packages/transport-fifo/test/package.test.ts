// What the package promises from the outside: no undeclared dependency
// (workspace hoisting would hide one), an exports map pino's require.resolve
// can use, an index that only re-exports, and the definitions the CLI looks up.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isPluginDefinition, PLUGIN_API_VERSION } from '@logkit/core'
import {
  builtinsLoadedBy,
  exportedFile,
  packageChecks,
  packagesLoadedBy,
  transportProducerBundleCheck,
} from '@logkit/core/testing'
import t from 'tap'
import * as api from '../src/index.js'

const root = new URL('..', import.meta.url).pathname
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
/** What `import … from '@logkit/transport-fifo/producer'` loads: the bundle the build makes of dist/producer.js. */
const producer = exportedFile(root, './producer')

await packageChecks(t, root)

t.test('no runtime dependency of its own', (t) => {
  t.same(Object.keys(pkg.dependencies ?? {}), [], 'only peers')
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

t.test('the producer entry point loads only the core producer entry point (no zod, no rxjs)', (t) => {
  const loaded = packagesLoadedBy(producer)
  t.same([...loaded], ['@logkit/core/producer'], 'what a worker loads')
  t.end()
})

t.test('the producer entry point loads no heavy built-in: child_process waits for the first pipe', (t) => {
  t.same(
    [...builtinsLoadedBy(producer)].sort(),
    ['node:fs', 'node:module', 'node:os', 'node:path', 'node:util', 'node:worker_threads'],
    'what a worker loads',
  )
  t.end()
})

transportProducerBundleCheck(t, root)
