// This package's error table and the README's stay in step: a code added,
// renamed or removed in one and not the other fails here. Codes, never message
// text, are what callers match on.

import { readFileSync } from 'node:fs'
import { isLogkitError, LogkitError } from '@logkit/core'
import { markdownSection, tableCodes } from '@logkit/core/testing'
import t from 'tap'
import { errorCodes, fifoError, warningCodes } from '../src/errors.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
const errorsSection = markdownSection(readme, 'Errors')

t.test('every code in src/errors.ts has exactly one row in the README, and every row a code', (t) => {
  const documented = tableCodes(readme, 'Errors')
  t.same(
    documented.slice().sort(),
    Object.keys(errorCodes).sort(),
    'the README table and errors.ts list the same codes',
  )
  t.equal(new Set(documented).size, documented.length, 'no code documented twice')
  t.end()
})

t.test('each README row says what happened as errors.ts does, and how to fix it', (t) => {
  for (const [code, meaning] of Object.entries(errorCodes)) {
    const row = errorsSection.split('\n').find((line) => line.includes(`\`${code}\``)) ?? ''
    const cells = row.split('|').map((c) => c.trim())
    t.equal(cells[2], meaning, `${code}: the same meaning`)
    t.ok((cells[3] ?? '').length > 20, `${code}: a fix is given`)
  }
  t.end()
})

t.test('fifoError makes a LogkitError with the code, details and cause', (t) => {
  const cause = new Error('root')
  const err = fifoError('LOGKIT_ERR_FIFO_NOT_A_PIPE', 'not a pipe', { cause, details: { path: '/x' } })
  t.ok(err instanceof LogkitError, 'a LogkitError')
  t.ok(isLogkitError(err, 'LOGKIT_ERR_FIFO_NOT_A_PIPE'), 'recognised by its code')
  t.equal(err.cause, cause, 'with its cause')
  t.same(err.details, { path: '/x' }, 'and details')
  t.ok(
    Object.keys(errorCodes).every((c) => /^LOGKIT_ERR_FIFO_[A-Z_]+$/.test(c)),
    'every code is LOGKIT_ERR_FIFO_<WHAT>',
  )
  t.end()
})

t.test('every warning code has one row in the README with the same meaning, and every row a code', (t) => {
  t.same(
    tableCodes(readme, 'Warnings').slice().sort(),
    Object.keys(warningCodes).sort(),
    'the README table and errors.ts list the same warning codes',
  )
  const section = markdownSection(readme, 'Warnings')
  for (const [code, meaning] of Object.entries(warningCodes)) {
    const cells = (section.split('\n').find((line) => line.includes(`\`${code}\``)) ?? '').split('|')
    t.equal(cells[2]?.trim(), meaning, `${code}: the same meaning`)
  }
  t.end()
})
