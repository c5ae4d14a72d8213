// The fifo source in this process, against real pipes: discovery at start and
// by watching, garbage skipped and counted per pipe while the others flow,
// producers found gone reaped once, demand respected, the session's rules.

import { execFileSync, spawn } from 'node:child_process'
import { closeSync, constants, existsSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import {
  acquireSession,
  createEntry,
  createLogger,
  createPipeline,
  DemandController,
  type Diagnostic,
  FrameEncoder,
  NO_DROPS,
  readSession,
  runtimePaths,
  useSource,
} from '@logkit/core'
import { createMemorySink, seededRandom } from '@logkit/core/testing'
import { lastValueFrom, toArray } from 'rxjs'
import t from 'tap'
import { writeCheckpoint } from '../src/checkpoint.js'
import { createFifoSource, fifo, fifoSource } from '../src/index.js'
import { contiguous, entriesOf, runtimeEnv, sleep, waitFor } from './helpers.js'

type Env = { LOGKIT_RUNTIME_DIR: string }

function collector(env: Env, app: string, options: Record<string, unknown> = {}, sink = createMemorySink()) {
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    app,
    sources: [useSource(fifoSource, { env, scanMs: 30, ...options })],
    sinks: [sink],
    onDiagnostic: (d) => diagnostics.push(d),
  })
  return { pipeline, sink, diagnostics }
}

/** A pid that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid as number
}

/** Seeded bytes that never hold the frame magic "LK", so every one of them is garbage. */
function garbage(seed: number, n: number): Buffer {
  const rnd = seededRandom(seed)
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) {
    out[i] = (rnd() * 4294967296) & 0xff
    if (out[i] === 0x4b && out[i - 1] === 0x4c) out[i] = 0x4a
  }
  return out
}

t.test(
  'pipes there at start and pipes made later are all read; entries are tagged from the hello',
  async (t) => {
    const env = runtimeEnv()
    // The collector's session exists before it reads: producers make their pipes first.
    const pre = acquireSession('disco', env)
    pre.session.setTransport('fifo', { dir: pre.session.paths.appDir })
    const early = fifo({ app: 'disco', env, source: 'early', heartbeatMs: 0, retryMs: 20 })
    const earlyLog = createLogger({ app: 'disco', source: 'early', transport: early })
    earlyLog.info('logged before the collector read anything')
    await waitFor(() => existsSync(early.stats().path ?? ''), 'the early pipe')
    pre.release()

    const c = collector(env, 'disco')
    await c.pipeline.start()
    const late = fifo({ app: 'disco', env, source: 'late', heartbeatMs: 0, retryMs: 20 })
    const lateLog = createLogger({ app: 'disco', source: 'late', transport: late })
    lateLog.info('logged by a producer that came later')
    await waitFor(() => c.sink.entries.filter((e) => e.source !== 'logkit').length === 2, 'both entries')
    const got = c.sink.entries.filter((e) => e.source !== 'logkit')
    t.same(got.map((e) => e.source).sort(), ['early', 'late'], 'both producers were found')
    t.ok(
      got.every((e) => e.pid === process.pid && e.app === 'disco' && e.hostname !== ''),
      'entries carry pid, app and hostname',
    )
    t.same(
      readSession('disco', env)?.transports['fifo'],
      { dir: runtimePaths('disco', env).appDir },
      'announced',
    )
    await Promise.all([earlyLog.close(), lateLog.close()])
    await c.pipeline.close()
    t.equal(readSession('disco', env), undefined, 'the session is released after close')
    t.same(
      readdirSync(runtimePaths('disco', env).appDir).filter((n) => n.endsWith('.fifo')),
      [],
      'the pipes are removed on shutdown',
    )
  },
)

t.test(
  'garbage in one pipe is skipped and counted; the frames around it and the other pipes flow',
  async (t) => {
    const env = runtimeEnv()
    const c = collector(env, 'noise')
    await c.pipeline.start()
    const clean = fifo({ app: 'noise', env, source: 'clean', heartbeatMs: 0, retryMs: 20 })
    const log = createLogger({ app: 'noise', source: 'clean', transport: clean })

    // A pipe the test writes itself: garbage, good frames, garbage, good frames.
    const path = join(runtimePaths('noise', env).appDir, `noisy.${process.pid}.fifo`)
    execFileSync('mkfifo', ['-m', '600', path])
    const fd = await waitFor(() => {
      try {
        return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
      } catch {
        return undefined
      }
    }, 'the collector opening the noisy pipe')
    const encoder = new FrameEncoder()
    const frames = (from: number, n: number) =>
      Buffer.concat(
        Array.from({ length: n }, (_, i) =>
          Buffer.from(
            encoder.entry({
              ...createEntry({ msg: `good ${from + i}`, source: 'noisy', seq: from + i, pid: process.pid }),
              fields: '{}',
            }),
          ),
        ),
      )
    const junk = [garbage(1, 10_000), garbage(2, 5_000)]
    const hello = Buffer.from(
      encoder.hello({
        app: 'noise',
        source: 'noisy',
        pid: process.pid,
        hostname: 'h',
        protocol: 1,
        transport: 'test',
        capabilities: [],
        startTime: 1n,
      }),
    )
    for (let i = 1; i <= 3000; i++) log.info({ i }, 'clean %d', i)
    for (const chunk of [hello, junk[0], frames(1, 10), junk[1], frames(11, 5)])
      writeSync(fd, chunk as Buffer)
    await log.flush()
    await waitFor(
      () =>
        c.sink.entries.filter((e) => e.source === 'noisy').length === 15 &&
        entriesOf(c.sink.entries, process.pid).length >= 3015,
      'every good frame of both pipes',
    )
    closeSync(fd)
    await waitFor(
      () =>
        c.diagnostics
          .filter((d) => d.code === 'frame_corrupt')
          .reduce((n, d) => n + (d.details?.['skippedBytes'] as number), 0) === 15_000,
      'the skipped bytes reported',
    )
    const noisy = c.sink.entries.filter((e) => e.source === 'noisy')
    t.same(
      noisy.map((e) => e.msg),
      Array.from({ length: 15 }, (_, i) => `good ${i + 1}`),
      'the good frames between the garbage arrive, in order',
    )
    const corrupt = c.diagnostics.filter((d) => d.code === 'frame_corrupt')
    t.ok(
      corrupt.every((d) => d.details?.['pipe'] === `noisy.${process.pid}.fifo`),
      'only the noisy pipe reported',
    )
    t.equal(
      corrupt.reduce((n, d) => n + (d.details?.['skippedBytes'] as number), 0),
      15_000,
      'exactly the garbage bytes were skipped',
    )
    const cleanSeqs = c.sink.entries.filter((e) => e.source === 'clean').map((e) => e.seq)
    t.ok(contiguous(cleanSeqs, 1, 3000), 'the clean pipe lost nothing')
    t.equal(c.diagnostics.filter((d) => d.code === 'seq_gap').length, 0, 'and no gap anywhere')
    await log.close()
    await c.pipeline.close()
  },
)

t.test('a producer found gone is drained, reported once and its pipe and checkpoint removed', async (t) => {
  const env = runtimeEnv()
  const dir = runtimePaths('ghosts', env).appDir
  const pre = acquireSession('ghosts', env) // makes the app directory
  pre.release()
  const pid = await deadPid()
  const pipe = join(dir, `ghost.${pid}.fifo`)
  execFileSync('mkfifo', ['-m', '600', pipe])
  const hello = {
    app: 'ghosts',
    source: 'ghost',
    pid,
    hostname: 'h',
    protocol: 1,
    transport: 'fifo',
    capabilities: [],
    startTime: 5n,
  }
  writeCheckpoint(`${pipe}.ack`, { hello, lastSeq: 42, drops: NO_DROPS })
  writeFileSync(join(dir, `bad.${process.pid}.fifo`), 'not a pipe', { mode: 0o600 })
  const deadAgain = await deadPid()
  writeCheckpoint(join(dir, `gone.${deadAgain}.fifo.ack`), {
    hello: { ...hello, pid: deadAgain },
    lastSeq: 1,
    drops: NO_DROPS,
  })

  const c = collector(env, 'ghosts')
  await c.pipeline.start()
  await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the ghost reaped')
  await sleep(100) // a few more scans: it must not be reported again
  const exited = c.diagnostics.filter((d) => d.code === 'producer_exited')
  t.equal(exited.length, 1, 'reported once')
  t.match(
    exited[0],
    { level: 40, details: { pid, source: 'ghost', lastSeq: 42, salvaged: 0, goodbye: false } },
    'without a goodbye: a warning, with the last seq the previous collector delivered',
  )
  t.notOk(existsSync(pipe), 'its pipe is removed')
  t.notOk(existsSync(`${pipe}.ack`), 'its checkpoint too')
  t.notOk(
    existsSync(join(dir, `gone.${deadAgain}.fifo.ack`)),
    'a checkpoint without pipe or producer is cleaned up',
  )
  const unsafe = c.diagnostics.filter((d) => d.code === 'pipe_unsafe')
  t.equal(unsafe.length, 1, 'a regular file named like a pipe is reported, once')
  t.ok(existsSync(join(dir, `bad.${process.pid}.fifo`)), 'and left alone')
  await c.pipeline.close()
})

t.test('demand paused stops reading; when it resumes everything arrives, nothing dropped', async (t) => {
  const env = runtimeEnv()
  const sink = createMemorySink({ manual: true })
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    app: 'slow',
    sources: [useSource(fifoSource, { env, scanMs: 30 })],
    sinks: [{ sink, queue: { capacity: 1000, maxBatch: 250 } }],
    onDiagnostic: (d) => diagnostics.push(d),
  })
  await pipeline.start()
  const transport = fifo({ app: 'slow', env, heartbeatMs: 0, retryMs: 20, bufferBytes: 8 * 1024 * 1024 })
  const log = createLogger({ app: 'slow', transport })
  for (let i = 1; i <= 20_000; i++) log.info({ i }, 'entry %d', i)
  await waitFor(() => sink.waiting > 0, 'the sink holding a write')
  await sleep(100)
  t.ok(transport.stats().bufferedBytes > 0, 'the producer holds frames while the collector does not read')
  t.ok(sink.entries.length < 20_000, 'while the sink holds its write, the rest waits upstream')
  const deadline = Date.now() + 20_000
  while (entriesOf(sink.entries, process.pid).length < 20_000 && Date.now() < deadline) {
    sink.release()
    await sleep(2)
  }
  const seqs = entriesOf(sink.entries, process.pid).map((e) => e.seq)
  t.ok(contiguous(seqs, 1, 20_000), 'all 20,000 arrive, in order')
  t.same(
    diagnostics.filter((d) => d.code === 'dropped').map((d) => d.count),
    [],
    'the sink queue never had to drop',
  )
  await log.close()
  const closing = pipeline.close()
  while ((await Promise.race([closing.then(() => true), sleep(5).then(() => false)])) === false)
    sink.release()
})

t.test('one fifo source per app and process; an app is needed', async (t) => {
  const env = runtimeEnv()
  const abort = new AbortController()
  const ctx = {
    id: 'fifo',
    app: 'busy',
    demand: new DemandController(),
    signal: abort.signal,
    onAck: () => {},
    report: () => {},
  }
  const first = createFifoSource({ env }, ctx)
  t.throws(
    () => createFifoSource({ env }, ctx),
    { code: 'LOGKIT_ERR_FIFO_SOURCE_BUSY' },
    'a second one is refused',
  )
  t.throws(
    () => createFifoSource({ env }, { ...ctx, app: '' }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'without an app',
  )
  t.throws(
    () => createFifoSource({ env, scanMs: 0 }, ctx),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a bad option',
  )
  const all = lastValueFrom(first.pipe(toArray()))
  abort.abort()
  t.same(await all, [], 'intake stopped before anything came: it completes with nothing')
  t.equal(
    readSession('busy', env),
    undefined,
    'and gives the session back, nothing being left to acknowledge',
  )
  const again = createFifoSource({ env }, { ...ctx, signal: AbortSignal.abort() })
  t.same(await lastValueFrom(again.pipe(toArray())), [], 'a source can be made again afterwards')
})
