// The README and the code say the same thing: one README row per error code in
// src/errors.ts and per diagnostic code in src/diagnostics.ts, and every error
// code is raised somewhere in src.

import { readdirSync, readFileSync } from 'node:fs'
import { isLogkitError } from '@logkit/core'
import { tableCodes } from '@logkit/core/testing'
import t from 'tap'
import { fileSinkError } from '../src/errors.js'
import { fileSinkDiagnostics, fileSinkErrorCodes } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

t.test('every error code has exactly one row in the README Errors table, and every row a code', async (t) => {
  t.same(
    tableCodes(readme, 'Errors').sort(),
    Object.keys(fileSinkErrorCodes).sort(),
    'the README table and src/errors.ts list the same codes',
  )
})

t.test('every diagnostic code has exactly one row in the README Diagnostics table', async (t) => {
  t.same(
    tableCodes(readme, 'Diagnostics').sort(),
    Object.keys(fileSinkDiagnostics).sort(),
    'the README table and src/diagnostics.ts list the same codes',
  )
})

t.test('every error code is raised somewhere in src', async (t) => {
  const src = readdirSync(new URL('../src/', import.meta.url))
    .map((f) => readFileSync(new URL(`../src/${f}`, import.meta.url), 'utf8'))
    .join('\n')
  for (const code of Object.keys(fileSinkErrorCodes)) {
    t.match(src, new RegExp(`fileSinkError\\(\\s*'${code}'`), `${code} is raised`)
  }
})

t.test('fileSinkError makes a LogkitError with the code, details and cause', async (t) => {
  const cause = new Error('root')
  const err = fileSinkError('LOGKIT_ERR_FILE_OPEN', 'cannot open', { cause, details: { path: '/x' } })
  t.ok(isLogkitError(err, 'LOGKIT_ERR_FILE_OPEN'), 'a LogkitError of that code')
  t.equal(err.cause, cause, 'with its cause')
  t.same(err.details, { path: '/x' }, 'and its details')
})
