// Worker threads of one process, each with a logger of the same source: each
// gets a pipe of its own (names carry the threadId), so writes larger than
// PIPE_BUF never interleave in one pipe. A real process with real threads.

import { createPipeline, type Diagnostic, useSource } from '@logkit/core'
import { createMemorySink } from '@logkit/core/testing'
import t from 'tap'
import { fifoSource } from '../src/index.js'
import { Child, runtimeEnv, waitFor } from './helpers.js'

t.setTimeout(120_000)

t.test('two worker threads, one source: two pipes, every 8 KiB entry whole and in order', async (t) => {
  const env = runtimeEnv()
  const sink = createMemorySink()
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    app: 'pool',
    sources: [useSource(fifoSource, { env, scanMs: 50 })],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
  })
  await pipeline.start()
  const entries = 500
  const child = new Child('threads.mjs', { app: 'pool', entries }, env)
  t.teardown(() => child.kill())
  const done = await child.ready()
  const paths = done['paths'] as string[]
  t.equal(new Set(paths).size, 2, `each thread wrote a pipe of its own (${paths.join(', ')})`)
  const ofThread = (thread: number) =>
    sink.entries.filter((e) => e.source === 'pool' && e.fields.get('thread') === thread)
  await waitFor(() => ofThread(1).length + ofThread(2).length >= 2 * entries, 'every entry')
  await pipeline.close()
  for (const thread of [1, 2]) {
    const got = ofThread(thread)
    t.same(
      got.map((e) => e.fields.get('i')),
      Array.from({ length: entries }, (_, i) => i + 1),
      `thread ${thread}: entries 1…${entries}, once, in order`,
    )
    t.ok(
      got.every((e) => e.fields.get('pad') === 'x'.repeat(8192)),
      `thread ${thread}: each entry whole`,
    )
  }
  t.same(
    diagnostics.filter((d) => d.code === 'frame_corrupt' || d.code === 'seq_gap').map((d) => d.code),
    [],
    'nothing corrupt, nothing missing',
  )
})
