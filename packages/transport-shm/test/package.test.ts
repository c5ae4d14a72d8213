// The standard package checks (no undeclared dependency, an exports map
// require.resolve can use), and the definitions the CLI looks up.

import { isPluginDefinition } from '@logkit/core'
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

transportProducerBundleCheck(t, root)
