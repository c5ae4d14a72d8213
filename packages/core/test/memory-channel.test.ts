import { lastValueFrom, toArray } from 'rxjs'
import t from 'tap'
import type { Diagnostic } from '../src/diagnostics.js'
import { createLogger } from '../src/logger.js'
import { createMemoryChannel } from '../src/memory-channel.js'
import type { Demand } from '../src/plugin.js'
import { DemandController } from '../src/runtime/demand.js'

function context() {
  const demand = new DemandController()
  const abort = new AbortController()
  const diagnostics: Diagnostic[] = []
  return {
    demand: demand as Demand,
    controller: demand,
    signal: abort.signal,
    abort: () => abort.abort(),
    report: (d: Partial<Diagnostic>) => diagnostics.push(d as Diagnostic),
    diagnostics,
  }
}

t.test(
  'frames written before and after subscribing arrive in order; close completes the source',
  async (t) => {
    const channel = createMemoryChannel()
    const log = createLogger({ app: 'a', transport: channel.transport })
    log.info('before')
    const ctx = context()
    const all = lastValueFrom(channel.source(ctx).pipe(toArray()))
    log.info('after')
    await log.close()
    const got = await all
    t.same(
      got.map((e) => e.msg),
      ['before', 'after'],
      'both entries, in order',
    )
  },
)

t.test('drop_newest: a full channel refuses frames and the logger announces them', async (t) => {
  const channel = createMemoryChannel({ capacityBytes: 600 })
  const log = createLogger({ app: 'a', transport: channel.transport })
  for (let i = 0; i < 20; i++) log.info(`entry ${i}`)
  t.ok(log.stats.dropped > 0, 'the logger counted drops')
  t.equal(channel.stats().droppedFrames, log.stats.dropped, 'channel and logger agree on the count')
  const ctx = context()
  const all = lastValueFrom(channel.source(ctx).pipe(toArray()))
  await new Promise((r) => setImmediate(r))
  log.info('after the drain')
  await log.close()
  const got = await all
  t.equal(got.at(-1)?.msg, 'after the drain', 'the next entry arrives')
  const reported = ctx.diagnostics.filter((d) => d.code === 'dropped').reduce((n, d) => n + (d.count ?? 0), 0)
  t.equal(reported, log.stats.dropped, 'the collector reports exactly the producer’s drops')
  t.equal(ctx.diagnostics.filter((d) => d.code === 'seq_gap').length, 0, 'and no unexplained gap')
})

t.test('drop_oldest: old frames make room; the collector reports the loss as a seq gap', async (t) => {
  const channel = createMemoryChannel({ capacityBytes: 600, policy: 'drop_oldest' })
  const log = createLogger({ app: 'a', transport: channel.transport })
  for (let i = 1; i <= 20; i++) log.info(`entry ${i}`)
  t.equal(log.stats.dropped, 0, 'the producer itself dropped nothing')
  const ctx = context()
  const all = lastValueFrom(channel.source(ctx).pipe(toArray()))
  await log.close()
  const got = await all
  t.equal(got.at(-1)?.msg, 'entry 20', 'the newest entries are kept')
  const lost = ctx.diagnostics.filter((d) => d.code === 'seq_gap').reduce((n, d) => n + (d.count ?? 0), 0)
  // The hello went first, so the collector joined mid-stream: what was dropped
  // before the first entry it saw shows in that entry's seq.
  const before = (got[0]?.seq ?? 1) - 1
  t.ok(before > 0, 'the oldest entries were dropped')
  t.equal(before + lost + got.length, 20, 'dropped before, lost between and kept add up to everything')
  t.equal(channel.stats().droppedFrames, before + lost + 1, 'the channel counted those frames and the hello')
})

t.test('paused demand stops reading; resumed demand reads on', async (t) => {
  const channel = createMemoryChannel()
  const log = createLogger({ app: 'a', transport: channel.transport })
  const ctx = context()
  ctx.controller.block('test')
  const got: string[] = []
  const sub = channel.source(ctx).subscribe((e) => got.push(e.msg))
  for (let i = 0; i < 10; i++) log.info(`e${i}`)
  await new Promise((r) => setImmediate(r))
  t.equal(got.length, 0, 'nothing read while paused')
  t.ok(channel.stats().queuedBytes > 10 * 40, 'hello and ten entries wait')
  ctx.controller.unblock('test')
  await new Promise((r) => setImmediate(r))
  await new Promise((r) => setImmediate(r))
  t.equal(got.length, 10, 'all read after resume')
  sub.unsubscribe()
})

t.test('stopping intake reads what is queued at that moment, then completes', async (t) => {
  const channel = createMemoryChannel({ chunkBytes: 100 })
  const log = createLogger({ app: 'a', transport: channel.transport })
  for (let i = 0; i < 10; i++) log.info(`e${i}`)
  let flushed = false
  void log.flush().then(() => {
    flushed = true
  })
  await new Promise((r) => setImmediate(r))
  t.notOk(flushed, 'flush waits while frames are unread')
  const ctx = context()
  const all = lastValueFrom(channel.source(ctx).pipe(toArray()))
  ctx.abort()
  const got = await all
  t.equal(got.length, 10, 'all ten queued entries were read')
  await new Promise((r) => setImmediate(r))
  t.ok(flushed, 'flush resolved once they were read')
})
