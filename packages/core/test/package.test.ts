import { fileURLToPath } from 'node:url'
import t from 'tap'
import {
  builtinsLoadedBy,
  packageChecks,
  packagesLoadedBy,
  undeclaredImports,
} from '../src/testing/package-checks.js'

const root = fileURLToPath(new URL('..', import.meta.url))

await packageChecks(t, root)

t.test('the check itself finds an undeclared import', (t) => {
  t.ok(
    undeclaredImports(root, 'src', new Set(['rxjs'])).some((line) => line.endsWith(': zod')),
    'with zod left out of the declared set, its imports are reported',
  )
  t.end()
})

t.test('the producer entry point loads no other package; the options one only zod', (t) => {
  t.same([...packagesLoadedBy(`${root}/dist/producer.js`)], [], '@logkit/core/producer: no zod, no rxjs')
  t.same([...packagesLoadedBy(`${root}/dist/options.js`)], ['zod'], '@logkit/core/options: zod')
  t.ok(
    packagesLoadedBy(`${root}/dist/index.js`).has('rxjs'),
    'the check sees what the main entry point loads',
  )
  t.end()
})

t.test(
  'the producer entry point loads only light built-ins: zlib and crypto wait for their first use',
  (t) => {
    t.same(
      [...builtinsLoadedBy(`${root}/dist/producer.js`)].sort(),
      ['node:fs', 'node:module', 'node:os', 'node:path', 'node:util'],
      'no node:zlib (large frames load it), no node:crypto (lock tokens load it)',
    )
    t.end()
  },
)
