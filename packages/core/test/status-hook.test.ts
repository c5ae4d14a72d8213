// A sink's status() and a source Observable's status() reach the pipeline's
// stats (what `logkit status` prints), called at each stats() call.

import { Observable } from 'rxjs'
import t from 'tap'
import { createEntry } from '../src/entry.js'
import type { SourceContext } from '../src/plugin.js'
import { createPipeline } from '../src/runtime/pipeline.js'
import type { Sink } from '../src/sink.js'

t.test("a sink's and a source's own status appear in the pipeline's stats", async (t) => {
  let calls = 0
  const sink: Sink = {
    write: () => {},
    status: () => ({ server: 'nats://127.0.0.1:4222', inFlight: ++calls }),
  }
  const plain: Sink = { write: () => {} }
  const source = {
    id: 'src',
    create: (ctx: SourceContext) =>
      Object.assign(
        new Observable<ReturnType<typeof createEntry>>((s) => {
          s.next(createEntry({ msg: 'x' }))
          ctx.signal.addEventListener('abort', () => s.complete())
        }),
        { status: () => ({ pendingAcks: 3 }) },
      ),
  }
  const pipeline = createPipeline({ sources: [source], sinks: [sink, plain], diagnosticEntries: false })
  await pipeline.start()
  const stats = pipeline.stats()
  t.same(stats.sinks[0]?.status, { server: 'nats://127.0.0.1:4222', inFlight: 1 }, "the sink's status")
  t.notOk('status' in (stats.sinks[1] ?? {}), 'no status for a sink without one')
  t.same(stats.sources[0]?.status, { pendingAcks: 3 }, "the source's status")
  t.equal(pipeline.stats().sinks[0]?.status?.['inFlight'], 2, 'asked afresh at each stats()')
  await pipeline.close()
})

t.test("a status() that throws becomes the status's error: stats and close go on", async (t) => {
  const sink: Sink = {
    write: () => {},
    status: () => {
      throw new Error('not connected yet')
    },
  }
  const source = {
    id: 'src',
    create: (ctx: SourceContext) =>
      Object.assign(
        new Observable<ReturnType<typeof createEntry>>((s) => {
          ctx.signal.addEventListener('abort', () => s.complete())
        }),
        {
          status: () => {
            throw new TypeError('bad state')
          },
        },
      ),
  }
  const pipeline = createPipeline({ sources: [source], sinks: [sink], diagnosticEntries: false })
  await pipeline.start()
  const stats = pipeline.stats()
  t.same(stats.sinks[0]?.status, { error: 'status() failed: not connected yet' }, "the sink's")
  t.same(stats.sources[0]?.status, { error: 'status() failed: bad state' }, "the source's")
  const closed = await pipeline.close()
  t.same(closed.sinks[0]?.status, { error: 'status() failed: not connected yet' }, 'close returns its stats')
})
