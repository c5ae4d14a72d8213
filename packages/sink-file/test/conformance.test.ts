// The shared compliance suite of every logkit sink, run against the file sink
// as configured by default and with rotation on every few entries.

import { join } from 'node:path'
import { sinkConformance } from '@logkit/core/testing'
import t from 'tap'
import { createFileSink } from '../src/index.js'
import { messages } from './helpers.js'

t.test('the file sink passes the sink conformance suite', async (t) => {
  const dir = t.testdir()
  let n = 0
  await sinkConformance(t, {
    name: 'file',
    create: async () => {
      const path = join(dir, `plain-${++n}.log`)
      return { sink: createFileSink({ path }), read: async () => messages(path) }
    },
  })
})

t.test('the file sink passes the conformance suite while rotating every few entries', async (t) => {
  const dir = t.testdir()
  let n = 0
  await sinkConformance(t, {
    name: 'file (rotating, gzip)',
    create: async () => {
      const path = join(dir, `rotating-${++n}.log`)
      const sink = createFileSink({ path, rotate: { size: 600, compress: true } })
      return {
        sink,
        read: async () => {
          await sink.settled()
          return messages(path)
        },
      }
    },
  })
})
