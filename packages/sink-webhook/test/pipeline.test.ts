// The webhook sink inside a pipeline: a slow webhook does not slow the file
// sink beside it (its own queue and policy), acknowledgements wait for the
// endpoint (or the dead-letter file), and the sink's own diagnostics, which
// the runtime turns into entries, are not sent back to it.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, createMemoryChannel, createPipeline, useSink } from '@logkit/core'
import { waitFor } from '@logkit/core/testing'
import { fileSink } from '@logkit/sink-file'
import t, { type Test } from 'tap'
import { webhookSink } from '../src/index.js'
import { ndjson, startServer } from './helpers.js'

t.test('a stalled webhook does not slow the file sink of the same pipeline', async (t) => {
  const server = await startServer(t, 'stall')
  const path = join(t.testdir(), 'app.log')
  const channel = createMemoryChannel()
  const pipeline = createPipeline({
    id: 'main',
    sources: [{ id: 'memory', create: channel.source }],
    sinks: [
      useSink(fileSink, { path }),
      useSink(
        webhookSink,
        {
          url: server.url,
          preset: 'ndjson',
          timeoutMs: 60_000,
          retry: { retries: 0 },
          batch: { maxWaitMs: 0 },
        },
        { id: 'hook', queue: { capacity: 100, policy: 'drop_newest' } },
      ),
    ],
    diagnosticEntries: false,
  })
  await pipeline.start()
  const log = createLogger({ app: 'demo', source: 'worker', transport: channel.transport })
  for (let i = 0; i < 5000; i++) log.info({ i }, `hello ${i}`)
  await log.flush()
  // Not pipeline.flush(): it waits for every sink, the stalled one too.
  await waitFor(() => pipeline.stats().sinks[0]?.written === 5000, 'the file sink to write all 5000')
  t.pass('the file sink wrote all 5000 while the webhook hangs')
  const hook = pipeline.stats().sinks[1]
  t.ok(
    (hook?.dropped ?? 0) > 0,
    `the webhook's queue dropped and counted ${hook?.dropped} (policy drop_newest)`,
  )
  await server.requests(1)
  t.equal(
    pipeline.stats().sinks[1]?.written,
    0,
    'while its one request hangs at the webhook, nothing written there',
  )
  t.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, 5000, 'all 5000 lines are in the file')
  await server.close()
  await log.close()
  await pipeline.close()
})

t.test('acknowledgements wait for the endpoint; own diagnostics are not sent back', async (t) => {
  const server = await startServer(t)
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  // The first request is refused (400), but only once the test lets the server answer.
  server.answers.push({ status: 400, body: 'bad', until: held })
  const deadLetter = join(t.testdir(), 'dead.ndjson')
  const { pipeline, log } = await hookPipeline(
    { url: server.url, preset: 'ndjson', batch: { maxWaitMs: 0 }, deadLetter },
    true,
  )
  await server.requests(1)
  t.equal(
    pipeline.stats().sources[0]?.acknowledged,
    0,
    'while the endpoint holds its answer, nothing is acknowledged',
  )
  release()
  await waitFor(
    () => pipeline.stats().sources[0]?.acknowledged === 20,
    'every entry to be acknowledged once delivered or dead-lettered',
  )
  t.pass('acknowledged once the endpoint answered (or the dead-letter file took them)')
  await log.close()
  const stats = await pipeline.close()
  // The first request was refused (400): its entry is in the dead-letter file.
  const sent = server.received.slice(1).flatMap((r) => ndjson(r.body))
  const deadLettered = readFileSync(deadLetter, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"msg":"hello'))
  t.equal(sent.length + deadLettered.length, 20, 'every entry delivered or dead-lettered')
  t.notOk(
    sent.some((e) => e['component'] === 'hook'),
    "the sink's own `rejected` diagnostic did not come back to it",
  )
  t.equal(stats.diagnostics['rejected'], 1, 'it is counted in the pipeline status')
})

/** A started pipeline of the memory channel into a webhook sink (id hook), and 20 entries logged into it. */
async function hookPipeline(options: Record<string, unknown>, diagnosticEntries: boolean) {
  const channel = createMemoryChannel()
  const pipeline = createPipeline({
    id: 'main',
    sources: [{ id: 'memory', create: channel.source }],
    sinks: [useSink(webhookSink, options, { id: 'hook' })],
    diagnosticEntries,
  })
  await pipeline.start()
  const log = createLogger({ app: 'demo', source: 'worker', transport: channel.transport })
  for (let i = 0; i < 20; i++) log.info({ i }, `hello ${i}`)
  await log.flush()
  return { pipeline, log }
}

/** hookPipeline whose endpoint answers 429 Retry-After: 30, closed once the first request was answered. */
async function throttled(t: Test, deadLetter?: string) {
  const server = await startServer(t, { status: 429, headers: { 'retry-after': '30' } })
  const { pipeline, log } = await hookPipeline(
    {
      url: server.url,
      preset: 'ndjson',
      batch: { maxEntries: 5, maxWaitMs: 0 },
      ...(deadLetter === undefined ? {} : { deadLetter }),
    },
    false,
  )
  await server.requests(1)
  await log.close()
  const start = Date.now()
  const stats = await pipeline.close()
  return { server, stats, took: Date.now() - start }
}

t.test('close() cuts a Retry-After short: undelivered entries go to the dead-letter file', async (t) => {
  const deadLetter = join(t.testdir(), 'dead.ndjson')
  const { server, stats, took } = await throttled(t, deadLetter)
  // A bound on a wait, not on speed: a Retry-After of 30 s would end after 30 s.
  t.ok(took < 20_000, `close() returned without waiting out Retry-After: 30 (${took} ms)`)
  const kept = readFileSync(deadLetter, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"msg":"hello'))
  t.equal(kept.length, 20, 'all 20 entries are in the dead-letter file')
  t.equal(stats.sources[0]?.acknowledged, 20, 'and acknowledged: the file holds them durably')
  t.ok(server.received.length >= 1, 'the endpoint was tried')
})

t.test('close() cuts a Retry-After short: without a dead-letter file they stay unacknowledged', async (t) => {
  const { stats, took } = await throttled(t)
  t.ok(took < 20_000, `close() returned without waiting out Retry-After: 30 (${took} ms)`)
  t.equal(stats.sources[0]?.acknowledged, 0, 'nothing is acknowledged: the next collector gets them again')
  t.equal(stats.sinks[0]?.failed, 20, 'the 20 are counted as not written at shutdown')
})
