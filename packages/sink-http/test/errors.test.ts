// The README and the code say the same thing: one README row per error code in
// src/errors.ts and per diagnostic code in src/diagnostics.ts, and the
// repository's docs/errors.md has a row for each error code.

import { readFileSync } from 'node:fs'
import { markdownSection, tableCodes } from '@logkit/core/testing'
import t from 'tap'
import { httpSinkDiagnostics, httpSinkError, httpSinkErrorCodes } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')

t.test('every error code has one row in the README Errors table and in docs/errors.md', async (t) => {
  t.same(
    tableCodes(readme, 'Errors').sort(),
    Object.keys(httpSinkErrorCodes).sort(),
    'README: the same codes',
  )
  t.same(
    tableCodes(markdownSection(docs, '@logkit/sink-http')).sort(),
    Object.keys(httpSinkErrorCodes).sort(),
    'docs/errors.md: the same codes',
  )
})

t.test('every diagnostic code has one row in the README Diagnostics table', async (t) => {
  t.same(tableCodes(readme, 'Diagnostics').sort(), Object.keys(httpSinkDiagnostics).sort(), 'the same codes')
})

t.test('httpSinkError makes a LogkitError with the code', async (t) => {
  const err = httpSinkError('LOGKIT_ERR_HTTP_LISTEN', 'x', { details: { port: 1 } })
  t.equal(err.code, 'LOGKIT_ERR_HTTP_LISTEN', 'the code')
  t.same(err.details, { port: 1 }, 'the details')
})
