// The README and the code say the same thing: one README row per error code in
// src/errors.ts and per diagnostic code in src/diagnostics.ts, and every code
// is raised or reported somewhere in src.

import { readdirSync, readFileSync } from 'node:fs'
import { isLogkitError } from '@logkit/core'
import { tableCodes } from '@logkit/core/testing'
import t from 'tap'
import { webhookSinkError } from '../src/errors.js'
import { webhookSinkDiagnostics, webhookSinkErrorCodes } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const src = (dir: string): string =>
  readdirSync(new URL(`../src/${dir}`, import.meta.url), { withFileTypes: true })
    .map((f) =>
      f.isDirectory()
        ? src(`${dir}${f.name}/`)
        : readFileSync(new URL(`../src/${dir}${f.name}`, import.meta.url), 'utf8'),
    )
    .join('\n')
const code = src('')

t.test('every error code has exactly one row in the README Errors table, and every row a code', async (t) => {
  t.same(tableCodes(readme, 'Errors').sort(), Object.keys(webhookSinkErrorCodes).sort(), 'the same codes')
})

t.test('every diagnostic code has exactly one row in the README Diagnostics table', async (t) => {
  t.same(
    tableCodes(readme, 'Diagnostics').sort(),
    Object.keys(webhookSinkDiagnostics).sort(),
    'the same codes',
  )
})

t.test('every error code is raised and every diagnostic reported somewhere in src', async (t) => {
  for (const c of Object.keys(webhookSinkErrorCodes)) t.match(code, new RegExp(`'${c}'`), `${c} is raised`)
  for (const c of Object.keys(webhookSinkDiagnostics))
    t.match(code, new RegExp(`code: '${c}'`), `${c} is reported`)
})

t.test('webhookSinkError makes a LogkitError with the code, details, cause and retryable', async (t) => {
  const cause = new Error('root')
  const err = webhookSinkError('LOGKIT_ERR_WEBHOOK_REJECTED', 'refused', {
    cause,
    details: { status: 400 },
    retryable: false,
  })
  t.ok(isLogkitError(err, 'LOGKIT_ERR_WEBHOOK_REJECTED'), 'a LogkitError of that code')
  t.equal(err.cause, cause, 'with its cause')
  t.same(err.details, { status: 400 }, 'its details')
  t.equal(err.retryable, false, 'and whether the runtime may retry it')
  t.equal(
    webhookSinkError('LOGKIT_ERR_WEBHOOK_CLOSED', 'x').retryable,
    true,
    'retryable unless said otherwise',
  )
})
