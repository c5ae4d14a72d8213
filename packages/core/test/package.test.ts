import { fileURLToPath } from 'node:url'
import t from 'tap'
import { packageChecks, undeclaredImports } from '../src/testing/package-checks.js'

const root = fileURLToPath(new URL('..', import.meta.url))

await packageChecks(t, root)

t.test('the check itself finds an undeclared import', (t) => {
  t.ok(
    undeclaredImports(root, 'src', new Set(['rxjs'])).some((line) => line.endsWith(': zod')),
    'with zod left out of the declared set, its imports are reported',
  )
  t.end()
})
