// Entries too large to arrive: each reported for what it is. A frame over the
// source's maxFrameSize (its producer allows more) is skipped as one frame and
// named, not counted as corrupt bytes; an entry over the producer's own limit
// is dropped there, with a process warning that says why, and the collector
// reports it with its reason.

import { createLogger } from '@logkit/core'
import t from 'tap'
import { shm } from '../src/producer.js'
import { isolatedEnv, startCollector, until } from './helpers.js'

t.test(
  'a frame over the source’s maxFrameSize is skipped whole and named; the entries around it arrive',
  async (t) => {
    const env = isolatedEnv()
    const { pipeline, sink, diagnostics } = await startCollector('bigapp', env)
    const log = createLogger({
      app: 'bigapp',
      source: 'big',
      maxFrameSize: 8 * 1024 * 1024,
      transport: shm({ env, capacity: 16 * 1024 * 1024 }),
    })
    log.info('before')
    log.info({ blob: 'x'.repeat(2 * 1024 * 1024) }, 'too large for the source')
    log.info('after')
    await until(() => sink.entries.some((e) => e.msg === 'after'), 20_000, 'the entry after')
    t.same(
      sink.entries.filter((e) => e.source === 'big').map((e) => e.msg),
      ['before', 'after'],
      'the entries around it',
    )
    const large = diagnostics.filter((d) => d.code === 'frame_too_large')
    t.equal(large.length, 1, 'one frame_too_large')
    t.match(large[0], { count: 1, details: { maxFrameSize: 1024 * 1024 } })
    t.ok((large[0]?.details?.['largest'] as number) > 2 * 1024 * 1024, 'with the size of the frame')
    t.match(large[0]?.message, /raise the shm source's maxFrameSize/, 'and what to raise')
    t.notOk(
      diagnostics.some((d) => d.code === 'frame_corrupt'),
      'no bytes reported as corrupt',
    )
    await log.close()
    await pipeline.close()
  },
)

t.test(
  'an entry over the producer’s own limit: dropped there with a warning, reported by the collector with its reason',
  async (t) => {
    const env = isolatedEnv()
    const { pipeline, sink, diagnostics } = await startCollector('dropapp', env)
    const warnings: { code?: string; message: string }[] = []
    const onWarning = (w: Error & { code?: string }) => warnings.push({ code: w.code, message: w.message })
    process.on('warning', onWarning)
    t.teardown(() => {
      process.off('warning', onWarning)
    })
    const log = createLogger({
      app: 'dropapp',
      source: 'drop',
      transport: shm({ env, capacity: 4 * 1024 * 1024 }),
    })
    log.info('one')
    log.info({ blob: 'y'.repeat(2 * 1024 * 1024) }, 'over the producer’s 1 MiB')
    log.info({ blob: 'y'.repeat(2 * 1024 * 1024) }, 'again')
    log.info('two')
    await until(() => sink.entries.some((e) => e.msg === 'two'), 20_000, 'the entry after')
    await new Promise((resolve) => setImmediate(resolve))
    const mine = warnings.filter((w) => w.code === 'LOGKIT_W_ENTRY_TOO_LARGE')
    t.equal(mine.length, 1, 'one warning for both (said once)')
    t.match(mine[0]?.message, /over the 1048576-byte limit/, 'saying why')
    await until(() => diagnostics.some((d) => d.code === 'dropped'), 20_000, 'the drop report')
    const dropped = diagnostics.filter((d) => d.code === 'dropped')
    t.match(dropped[0]?.message, /maxFrameSize/, 'and which limit to raise')
    t.same(
      dropped.map((d) => [d.count, d.details?.['reason']]),
      [[2, 'entry_too_large']],
      'the collector reports the two as too large',
    )
    await log.close()
    await pipeline.close()
  },
)
