import { Observable } from 'rxjs'
import t from 'tap'
import type { Diagnostic } from '../src/diagnostics.js'
import { createEntry, type LogEntry } from '../src/entry.js'
import type { SourceContext } from '../src/plugin.js'
import {
  createPipeline,
  type PipelineOptions,
  type SinkInput,
  type SourceComponent,
} from '../src/runtime/pipeline.js'
import { shareSource } from '../src/runtime/shared-source.js'
import { createMemorySink } from '../src/testing/memory-sink.js'
import { waitFor } from '../src/testing/wait-for.js'

/**
 * A durable source like the shm one: emits entries pushed into it while there
 * is demand, records every acknowledgement, counts how often it was created,
 * and on abort hands over what it holds, then completes.
 */
function durableSource({ holdUntilAbort = false } = {}) {
  const state = {
    created: 0,
    fail: (_err: Error) => {},
    acks: [] as number[],
    queue: [] as LogEntry[],
    push: (_entries: LogEntry[]) => {},
    get acked() {
      return state.acks.at(-1) ?? 0
    },
  }
  const component = {
    id: 'durable',
    create(ctx: SourceContext) {
      state.created++
      ctx.onAck((n) => state.acks.push(n))
      return new Observable<LogEntry>((subscriber) => {
        const pump = () => {
          if (holdUntilAbort && !ctx.signal.aborted) return
          while (state.queue.length > 0 && !ctx.demand.paused)
            subscriber.next(state.queue.shift() as LogEntry)
          if (ctx.signal.aborted) subscriber.complete()
        }
        state.fail = (err) => subscriber.error(err)
        state.push = (entries) => {
          state.queue.push(...entries)
          pump()
        }
        const stop = ctx.demand.onResume(pump)
        ctx.signal.addEventListener('abort', pump, { once: true })
        pump()
        return stop
      })
    },
  }
  return { state, component }
}

/** A pipeline reading `source` into `sink`, diagnostics as calls only (`extra` adds options). */
function pipelineOf(
  id: string,
  source: SourceComponent | undefined,
  sink: SinkInput,
  extra: Partial<PipelineOptions> = {},
) {
  return createPipeline({
    id,
    sources: [source as SourceComponent],
    sinks: [sink],
    diagnosticEntries: false,
    ...extra,
  })
}

const entries = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => createEntry({ msg: `m${from + i}`, seq: from + i }))

t.test('two pipelines share one reader: each gets every entry, the source is created once', async (t) => {
  const { state, component } = durableSource()
  const [a, b] = shareSource(component, 2)
  const sinkA = createMemorySink()
  const sinkB = createMemorySink()
  const pa = pipelineOf('all', a, sinkA)
  const pb = pipelineOf('audit', b, sinkB)
  await pa.start()
  t.equal(state.created, 0, 'the reader waits until every pipeline has joined')
  await pb.start()
  t.equal(state.created, 1, 'then one reader is created for both')
  state.push(entries(5000))
  await waitFor(() => sinkA.entries.length === 5000 && sinkB.entries.length === 5000, 'both sinks')
  t.same(
    sinkA.entries.map((e) => e.seq),
    sinkB.entries.map((e) => e.seq),
    'both pipelines saw the same entries in the same order',
  )
  t.equal(sinkA.entries.at(-1)?.seq, 5000, 'and all 5,000 of them')
  t.not(sinkA.entries[0], sinkB.entries[0], 'each pipeline got its own entry object')
  await waitFor(() => state.acked === 5000, 'acknowledged')
  await pa.close()
  await pb.close()
})

t.test('the source is acknowledged only as far as the slower pipeline is done', async (t) => {
  const { state, component } = durableSource()
  const [a, b] = shareSource(component, 2)
  const fast = createMemorySink()
  const slow = createMemorySink({ manual: true })
  const pa = pipelineOf('fast', a, fast)
  const pb = pipelineOf('slow', b, { sink: slow, queue: { capacity: 100_000, policy: 'block' } })
  await Promise.all([pa.start(), pb.start()])
  state.push(entries(100))
  await waitFor(() => fast.entries.length === 100 && slow.waiting > 0, 'fast done, slow writing')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(state.acked, 0, 'nothing is released while the slow pipeline has not written it')
  slow.release()
  await waitFor(() => slow.entries.length === 100 || slow.waiting > 0, 'slow wrote')
  while (slow.entries.length < 100) {
    slow.release()
    await new Promise((resolve) => setImmediate(resolve))
  }
  await waitFor(() => state.acked === 100, 'released once both are done')
  t.equal(state.acked, 100, 'all 100 acknowledged once both pipelines wrote them')
  await Promise.all([pa.close(), pb.close()])
})

t.test("one pipeline's full block queue pauses the shared reader for both", async (t) => {
  const { state, component } = durableSource()
  const [a, b] = shareSource(component, 2)
  const free = createMemorySink()
  const stuck = createMemorySink({ manual: true })
  const pa = pipelineOf('free', a, free)
  const pb = pipelineOf('stuck', b, { sink: stuck, queue: { capacity: 10, policy: 'block' } })
  await Promise.all([pa.start(), pb.start()])
  state.push(entries(1000))
  await waitFor(() => state.queue.length > 0 && stuck.waiting > 0, 'the reader paused')
  const held = state.queue.length
  t.ok(held > 900, `the reader stopped taking entries (${held} of 1000 left unread)`)
  t.equal(stuck.entries.length + free.entries.length < 200, true, 'neither pipeline ran ahead')
  while (stuck.entries.length < 1000) {
    stuck.release()
    await new Promise((resolve) => setImmediate(resolve))
  }
  await waitFor(() => free.entries.length === 1000, 'the free pipeline has all')
  t.equal(state.queue.length, 0, 'the reader resumed and read everything')
  t.equal(stuck.entries.length, 1000, 'the paused pipeline has all 1,000')
  await Promise.all([pa.close(), pb.close()])
})

t.test(
  'a pipeline that restarts is told what it missed; nothing is released that it was still owed',
  async (t) => {
    const { state, component } = durableSource()
    const [a, b] = shareSource(component, 2)
    const sinkA = createMemorySink()
    const sinkB1 = createMemorySink()
    const diagnostics: Diagnostic[] = []
    const pa = pipelineOf('a', a, sinkA)
    const pb1 = pipelineOf('b', b, sinkB1)
    await Promise.all([pa.start(), pb1.start()])
    state.push(entries(10))
    await waitFor(() => sinkB1.entries.length === 10, 'b has the first 10')
    await pb1.close()
    t.equal(state.created, 1, 'the reader keeps running for pipeline a')
    state.push(entries(7, 11))
    await waitFor(() => sinkA.entries.length === 17, 'a has 17')
    const sinkB2 = createMemorySink()
    const pb2 = pipelineOf('b', b, sinkB2, { onDiagnostic: (d) => diagnostics.push(d) })
    await pb2.start()
    state.push(entries(3, 18))
    await waitFor(() => sinkB2.entries.length === 3 && sinkA.entries.length === 20, 'both have the last 3')
    t.same(
      sinkB2.entries.map((e) => e.seq),
      [18, 19, 20],
      'the restarted pipeline gets what came after it joined',
    )
    const missed = diagnostics.filter((d) => d.code === 'dropped')
    t.equal(missed.length, 1, 'one dropped diagnostic')
    t.equal(missed[0]?.count, 7, 'counting exactly the 7 entries that went by while it was down')
    await waitFor(() => state.acked === 20, 'all acknowledged')
    t.equal(state.created, 1, 'still one reader')
    await Promise.all([pa.close(), pb2.close()])
  },
)

t.test('when every pipeline stops, the reader hands over what it holds before they complete', async (t) => {
  const { state, component } = durableSource()
  const [a, b] = shareSource(component, 2)
  const sinkA = createMemorySink()
  const sinkB = createMemorySink()
  const pa = pipelineOf('a', a, sinkA)
  const pb = pipelineOf('b', b, sinkB)
  await Promise.all([pa.start(), pb.start()])
  state.push(entries(50))
  await waitFor(() => sinkA.entries.length === 50 && sinkB.entries.length === 50, 'both have 50')
  const [sa, sb] = await Promise.all([pa.close(), pb.close()])
  t.equal(sa.sources[0]?.acknowledged, 50, 'pipeline a acknowledged its 50')
  t.equal(sb.sources[0]?.acknowledged, 50, 'pipeline b acknowledged its 50')
  t.equal(state.acked, 50, 'the reader was acknowledged for all 50')
  // A new run after everything stopped starts a new reader.
  const [c] = shareSource(component, 1)
  const sinkC = createMemorySink()
  const pc = pipelineOf('c', c, sinkC)
  await pc.start()
  state.push(entries(2, 51))
  await waitFor(() => sinkC.entries.length === 2, 'a new reader reads')
  t.equal(state.created, 2, 'a second reader was created for the new run')
  await pc.close()
})

t.test('a pipeline that never joins holds the reader back only for startGraceMs', async (t) => {
  const { state, component } = durableSource()
  const [a] = shareSource(component, 2, { startGraceMs: 50 })
  const sinkA = createMemorySink()
  const pa = pipelineOf('a', a, sinkA)
  await pa.start()
  t.equal(state.created, 0, 'not yet')
  await waitFor(() => state.created === 1, 'started after the grace period')
  state.push(entries(4))
  await waitFor(() => sinkA.entries.length === 4, 'the pipeline that joined reads')
  await waitFor(() => state.acked === 4, 'and acknowledges')
  await pa.close()
})

t.test('pipelines that stop together all get what the reader hands over at the end', async (t) => {
  const { state, component } = durableSource({ holdUntilAbort: true })
  const [a, b] = shareSource(component, 2)
  const sinkA = createMemorySink()
  const sinkB = createMemorySink()
  const pa = pipelineOf('a', a, sinkA)
  const pb = pipelineOf('b', b, sinkB)
  await Promise.all([pa.start(), pb.start()])
  state.push(entries(10))
  // As compose stops: every pipeline's close() in one turn.
  await Promise.all([pa.close(), pb.close()])
  t.equal(sinkA.entries.length, 10, 'the first pipeline to stop wrote the 10 handed over')
  t.equal(sinkB.entries.length, 10, 'and so did the second')
  t.equal(state.acked, 10, 'the reader is acknowledged for what both wrote')
})

t.test('a reader that fails ends every pipeline reading it, even one that owed nothing', async (t) => {
  const { state, component } = durableSource()
  const [a, b] = shareSource(component, 2)
  const sinkA = createMemorySink()
  const sinkB = createMemorySink()
  const failures: string[] = []
  const onDiagnostic = (id: string) => (d: Diagnostic) => {
    if (d.code === 'source_failed') failures.push(id)
  }
  const pa = pipelineOf('a', a, sinkA, { onDiagnostic: onDiagnostic('a') })
  const pb = pipelineOf('b', b, sinkB, { onDiagnostic: onDiagnostic('b') })
  await Promise.all([pa.start(), pb.start()])
  state.push(entries(5))
  await waitFor(() => state.acked === 5, 'both done with the first 5')
  state.fail(new Error('the rings went away'))
  await Promise.all([pa.closed, pb.closed])
  t.same(failures.sort(), ['a', 'b'], 'both pipelines are told their source failed')
})
