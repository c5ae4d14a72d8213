// The README and the code say the same thing: one README row per error code in
// src/errors.ts and per diagnostic code in src/diagnostics.ts, and every code
// is raised or reported somewhere in src; docs/errors.md lists the same codes.

import { readdirSync, readFileSync } from 'node:fs'
import { isLogkitError } from '@logkit/core'
import { markdownSection, tableCodes } from '@logkit/core/testing'
import t from 'tap'
import { natsError } from '../src/errors.js'
import { natsDiagnostics, natsErrorCodes } from '../src/index.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8')
const dir = new URL('../src/', import.meta.url)
const code = readdirSync(dir)
  .map((f) => readFileSync(new URL(f, dir), 'utf8'))
  .join('\n')

t.test('every error code has one row in the README and in docs/errors.md', async (t) => {
  const codes = Object.keys(natsErrorCodes).sort()
  t.same(tableCodes(readme, 'Errors').sort(), codes, 'the README lists the same codes')
  t.same(tableCodes(markdownSection(docs, '@logkit/transport-nats')).sort(), codes, 'docs/errors.md too')
})

t.test('every diagnostic code has one row in the README', async (t) => {
  t.same(tableCodes(readme, 'Diagnostics').sort(), Object.keys(natsDiagnostics).sort(), 'the same codes')
})

t.test('every error code is raised and every diagnostic reported somewhere in src', async (t) => {
  for (const c of Object.keys(natsErrorCodes)) t.match(code, new RegExp(`'${c}'`), `${c} is raised`)
  for (const c of Object.keys(natsDiagnostics)) t.match(code, new RegExp(`code: '${c}'`), `${c} is reported`)
})

t.test('natsError makes a LogkitError with the code, cause and retryable', async (t) => {
  const cause = new Error('root')
  const err = natsError('LOGKIT_ERR_NATS_STREAM', 'no stream', { cause, retryable: false })
  t.ok(isLogkitError(err, 'LOGKIT_ERR_NATS_STREAM'), 'a LogkitError of that code')
  t.equal(err.cause, cause, 'with its cause')
  t.equal(err.retryable, false, 'and whether the runtime may retry it')
  t.equal(natsError('LOGKIT_ERR_NATS_CLOSED', 'x').retryable, true, 'retryable unless said otherwise')
})
