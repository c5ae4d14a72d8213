// The totals line compose prints at exit: a producer's drops by reason.

import type { Diagnostic } from '@logkit/core'
import t from 'tap'
import { addDiagnostic, emptyTotals, totalsLine } from '../src/build.js'

const drop = (component: string, stage: Diagnostic['stage'], count: number, reason?: string): Diagnostic => ({
  code: 'dropped',
  stage,
  component,
  message: 'm',
  count,
  ...(reason === undefined ? {} : { details: { reason } }),
})

t.test("a producer's drops are shown by reason; an operator's by component", (t) => {
  const totals = emptyTotals('main')
  totals.in = 10
  totals.out = 6
  const sinks = new Set(['file'])
  addDiagnostic(totals, drop('shm', 'producer', 2, 'entry_too_large'), sinks)
  addDiagnostic(totals, drop('shm', 'producer', 100, 'producer_buffer_full'), sinks)
  addDiagnostic(totals, drop('shm', 'producer', 3, 'entry_too_large'), sinks)
  addDiagnostic(totals, drop('rateLimit', 'operator', 4, 'rate'), sinks)
  t.equal(
    totalsLine(totals),
    'main: 10 in; 6 out; written: none; dropped: shm (entry_too_large) 5, shm (producer_buffer_full) 100, rateLimit 4',
  )
  t.end()
})
