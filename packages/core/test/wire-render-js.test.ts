// wire-render.test.ts again with the TypeScript loops (the addon is the default
// where it is installed): both implementations answer to the same oracle.
import t from 'tap'
import { wireImplementation } from '../src/wire/index.js'

process.env.LOGKIT_WIRE = 'js'
t.equal(wireImplementation(), 'js', 'the tests below run the TypeScript loops')
await import('./wire-render.test.js')
