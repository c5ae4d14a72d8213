// The standard package checks (no undeclared dependency, an exports map
// require.resolve can use), and the definitions the CLI looks up.

import { isPluginDefinition } from '@logkit/core'
import { packageChecks, packagesLoadedBy } from '@logkit/core/testing'
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
