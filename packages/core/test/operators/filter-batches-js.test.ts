// filter-batches.test.ts again with the TypeScript wire loops: a `fields`
// condition then parses the fields of each row it reaches (BatchFields).
import t from 'tap'
import { wireImplementation } from '../../src/wire/native.js'

process.env.LOGKIT_WIRE = 'js'
t.equal(wireImplementation(), 'js', 'the tests below run the TypeScript loops')
await import('./filter-batches.test.js')
