// The standard package checks (no undeclared dependency, an exports map
// require.resolve can use), and the definitions the CLI looks up.

import { isPluginDefinition } from '@logkit/core'
import { builtinsLoadedBy, packageChecks, packagesLoadedBy } from '@logkit/core/testing'
import t from 'tap'
import * as api from '../src/index.js'

await packageChecks(t, new URL('..', import.meta.url).pathname)

t.test('the CLI finds `shm` in definitions, and as the default', (t) => {
  t.equal(api.default, api.shmSource, 'default is the shm source')
  t.ok(isPluginDefinition(api.definitions.shm, 'source'), 'a source definition core accepts')
  t.equal(api.definitions.shm.name, 'shm', 'named shm')
  t.end()
})

t.test('the producer entry point loads only the core producer entry point (no zod, no rxjs)', (t) => {
  const root = new URL('..', import.meta.url).pathname
  t.same([...packagesLoadedBy(`${root}dist/producer.js`)], ['@logkit/core/producer'])
  t.end()
})

t.test('the producer entry point loads no heavy built-in: net and crypto are the collector’s', (t) => {
  const root = new URL('..', import.meta.url).pathname
  t.same(
    [...builtinsLoadedBy(`${root}dist/producer.js`)].sort(),
    ['node:fs', 'node:module', 'node:os', 'node:path', 'node:util'],
    'what a worker loads',
  )
  t.ok(builtinsLoadedBy(`${root}dist/source.js`).has('node:net'), 'the check sees the collector’s doorbell')
  t.end()
})
