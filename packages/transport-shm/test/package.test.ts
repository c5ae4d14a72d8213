// The standard package checks (no undeclared dependency, an exports map
// require.resolve can use), and the definitions the CLI looks up.

import { isPluginDefinition } from '@logkit/core'
import {
  builtinsLoadedBy,
  exportedFile,
  modulesLoadedBy,
  packageChecks,
  packagesLoadedBy,
} from '@logkit/core/testing'
import t from 'tap'
import * as api from '../src/index.js'

const root = new URL('..', import.meta.url).pathname
/** What `import … from '@logkit/transport-shm/producer'` loads: the bundle the build makes of dist/producer.js. */
const producer = exportedFile(root, './producer')

await packageChecks(t, root)

t.test('the CLI finds `shm` in definitions, and as the default', (t) => {
  t.equal(api.default, api.shmSource, 'default is the shm source')
  t.ok(isPluginDefinition(api.definitions.shm, 'source'), 'a source definition core accepts')
  t.equal(api.definitions.shm.name, 'shm', 'named shm')
  t.end()
})

t.test('the producer entry point loads only the core producer entry point (no zod, no rxjs)', (t) => {
  t.same([...packagesLoadedBy(producer)], ['@logkit/core/producer'])
  t.end()
})

t.test('the producer entry point loads no heavy built-in: net and crypto are the collector’s', (t) => {
  t.same(
    [...builtinsLoadedBy(producer)].sort(),
    ['node:fs', 'node:module', 'node:os', 'node:path', 'node:util'],
    'what a worker loads',
  )
  t.ok(builtinsLoadedBy(`${root}dist/source.js`).has('node:net'), 'the check sees the collector’s doorbell')
  t.end()
})

t.test('the producer entry point is one module beside core’s: Node’s ESM loader pays per module', (t) => {
  t.equal(producer, `${root}dist/producer.bundle.js`, 'the exports map points at the bundle')
  const files = [...modulesLoadedBy(producer)].map((file) => file.replace(/.*\/packages\//, ''))
  t.same(
    files,
    ['transport-shm/dist/producer.bundle.js', 'core/dist/producer.bundle.js'],
    'its own bundle and @logkit/core/producer, kept outside it so a process has one copy of core',
  )
  t.end()
})
