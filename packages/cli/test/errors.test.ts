// The README and the code say the same thing: one README row per error code
// in src/errors.ts, and every code is used somewhere in src.

import { readdirSync, readFileSync } from 'node:fs'
import { tableCodes } from '@logkit/core/testing'
import t from 'tap'
import { cliErrorCodes } from '../src/errors.js'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

t.test('every error code has exactly one row in the README Errors table, and every row a code', async (t) => {
  const rows = tableCodes(readme, 'Errors')
  t.same(
    rows.sort(),
    Object.keys(cliErrorCodes).sort(),
    'the README table and src/errors.ts list the same codes',
  )
})

t.test('every error code is used in src', async (t) => {
  const dir = new URL('../src/', import.meta.url)
  const src = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'errors.ts')
    .map((f) => readFileSync(new URL(f, dir), 'utf8'))
    .join('\n')
  for (const code of Object.keys(cliErrorCodes)) {
    t.ok(src.includes(code), `${code} is used`)
  }
})
