import { fileURLToPath } from 'node:url'
import t from 'tap'
import {
  builtinsLoadedBy,
  exportedFile,
  modulesLoadedBy,
  packageChecks,
  packagesLoadedBy,
  undeclaredImports,
} from '../src/testing/package-checks.js'

const root = fileURLToPath(new URL('..', import.meta.url))
/** What `import … from '@logkit/core/producer'` loads: the bundle the build makes of dist/producer.js. */
const producer = exportedFile(root, './producer')

await packageChecks(t, root)

t.test('the check itself finds an undeclared import', (t) => {
  t.ok(
    undeclaredImports(root, 'src', new Set(['rxjs'])).some((line) => line.endsWith(': zod')),
    'with zod left out of the declared set, its imports are reported',
  )
  t.end()
})

t.test('the producer entry point loads no other package; the options one only zod', (t) => {
  t.same([...packagesLoadedBy(producer)], [], '@logkit/core/producer: no zod, no rxjs')
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
      [...builtinsLoadedBy(producer)].sort(),
      ['node:fs', 'node:module', 'node:os', 'node:path', 'node:util'],
      'no node:zlib (large frames load it), no node:crypto (lock tokens load it)',
    )
    t.end()
  },
)

t.test('the producer entry point is one module: Node’s ESM loader pays per module a worker loads', (t) => {
  t.equal(producer, `${root}dist/producer.bundle.js`, 'the exports map points at the bundle')
  t.same([...modulesLoadedBy(producer)], [producer], 'it imports no file of its own')
  t.ok(modulesLoadedBy(`${root}dist/producer.js`).size > 10, 'the check sees the modules tsc’s output loads')
  t.end()
})
