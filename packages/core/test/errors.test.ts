import { readFileSync } from 'node:fs'
import t from 'tap'
import { errorCodes, isLogkitError, LogkitError } from '../src/errors.js'
import { tableCodes } from '../src/testing/docs-tables.js'

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')

t.test('every error code has exactly one row in docs/errors.md, and every row a code', (t) => {
  // Core's table comes first, before the plugin packages' sections.
  const coreSection = docs.slice(0, docs.indexOf('\n## '))
  const documented = tableCodes(coreSection)
  t.same(
    documented.sort(),
    Object.keys(errorCodes).sort(),
    'the docs table and errors.ts list the same codes',
  )
  t.end()
})

t.test('LogkitError carries its code, details and cause', (t) => {
  const cause = new Error('root')
  const err = new LogkitError('LOGKIT_ERR_LEVEL_UNKNOWN', 'bad level', { cause, details: { level: 'x' } })
  t.equal(err.code, 'LOGKIT_ERR_LEVEL_UNKNOWN', 'code')
  t.equal(err.cause, cause, 'cause')
  t.same(err.details, { level: 'x' }, 'details')
  t.ok(isLogkitError(err, 'LOGKIT_ERR_LEVEL_UNKNOWN'), 'recognised by code')
  t.notOk(isLogkitError(err, 'LOGKIT_ERR_PIPELINE_EMPTY'), 'not another code')
  t.notOk(isLogkitError(new Error('x')), 'a plain Error is not a LogkitError')
  t.end()
})
