// `@logkit/core/producer` is a bundle (one module, for a worker's start-up), so
// a process that imports it beside `@logkit/core` (a collector that also logs,
// the CLI, these tests) holds two copies of the producer's classes and module
// state. What one copy makes, the other must recognise, and state that must be
// single (the session and lock registry) must be.

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import * as main from '@logkit/core'
import * as producer from '@logkit/core/producer'
import t, { type Test } from 'tap'
import { tempDir } from '../src/testing/index.js'

function runtimeEnv(t: Test): { LOGKIT_RUNTIME_DIR: string } {
  const base = tempDir('logkit-entry-points-')
  t.teardown(() => rmSync(base, { recursive: true, force: true }))
  return { LOGKIT_RUNTIME_DIR: join(base, 'run') }
}

t.test('the two entry points are two copies: what follows is about that case', (t) => {
  t.not(main.LogkitError, producer.LogkitError, 'LogkitError is a class of each copy')
  t.not(main.Fields, producer.Fields, 'so is Fields')
  t.end()
})

t.test('a LogkitError made by either copy is recognised by both, with its code', (t) => {
  const copies = { main, producer }
  for (const [maker, made] of Object.entries(copies)) {
    const err = new made.LogkitError('LOGKIT_ERR_LEVEL_UNKNOWN', 'no such level')
    for (const [reader, read] of Object.entries(copies)) {
      t.ok(read.isLogkitError(err), `${reader}'s isLogkitError knows ${maker}'s error`)
      t.ok(read.isLogkitError(err, 'LOGKIT_ERR_LEVEL_UNKNOWN'), `${reader}'s isLogkitError checks its code`)
      t.notOk(read.isLogkitError(err, 'LOGKIT_ERR_FRAME_TOO_LARGE'), `${reader}: another code is not it`)
      t.ok(err instanceof read.LogkitError, `${maker}'s error is instanceof ${reader}'s LogkitError`)
    }
  }
  t.end()
})

t.test('the brand does not make other things LogkitErrors', (t) => {
  const lookalike = Object.assign(new Error('x'), { code: 'LOGKIT_ERR_LEVEL_UNKNOWN', name: 'LogkitError' })
  for (const read of [main, producer]) {
    t.notOk(read.isLogkitError(lookalike), 'an Error with a logkit code is not one')
    t.notOk(read.isLogkitError(null), 'null is not one')
    t.notOk(read.isLogkitError('LOGKIT_ERR_LEVEL_UNKNOWN'), 'a string is not one')
  }
  class Special extends main.LogkitError {}
  t.ok(
    new Special('LOGKIT_ERR_LEVEL_UNKNOWN', 'x') instanceof main.LogkitError,
    'a subclass is a LogkitError',
  )
  t.notOk(
    new producer.LogkitError('LOGKIT_ERR_LEVEL_UNKNOWN', 'x') instanceof Special,
    'a subclass keeps the ordinary prototype check',
  )
  t.end()
})

t.test('fields made by the producer copy stay themselves in an entry made by the main copy', (t) => {
  const fields = producer.Fields.of({ user: 'ada', n: 1 })
  const entry = main.createEntry({ fields })
  t.equal(entry.fields, fields, 'not wrapped as an object of fields')
  t.same(entry.fields.value, { user: 'ada', n: 1 }, 'its values read through its own copy')
  t.ok(main.Fields.of({}) instanceof producer.Fields, 'instanceof holds the other way too')
  t.end()
})

t.test('one session registry per process: the second copy shares the lock, never judges it stale', (t) => {
  const env = runtimeEnv(t)
  const held = main.acquireSession('both', env)
  const shared = producer.acquireSession('both', env)
  t.equal(shared.session, held.session, 'acquireSession of the other copy shares the open session')
  t.throws(
    () => producer.openSession('both', { env }),
    { code: 'LOGKIT_ERR_SESSION_LOCKED' },
    'the other copy sees this process’s lock as live, not as left by an earlier process with its pid',
  )
  shared.release()
  t.ok(producer.readSession('both', env), 'the session stays while a user holds it')
  held.release()
  t.equal(producer.readSession('both', env), undefined, 'the last release, from either copy, closes it')
  t.end()
})

t.test('processWide gives both copies the same value', (t) => {
  const made = main.processWide('test.entry-points', () => ({ n: 1 }))
  t.equal(
    producer.processWide('test.entry-points', () => ({ n: 2 })),
    made,
    'the first copy’s value',
  )
  t.end()
})
