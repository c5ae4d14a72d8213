// Issue 11, "suspected": rings that lie to the collector. Garbage built to
// cost the most, a TAIL behind READ, a file truncated under the mapping, and
// a live producer whose pid the collector cannot see.

import { mkdirSync, readdirSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, FrameEncoder, processAlive, runtimePaths } from '@logkit/core'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { MIN_CAPACITY, TAIL_INDEX } from '../src/layout.js'
import { native } from '../src/native.js'
import { shm } from '../src/producer.js'
import { Ring } from '../src/ring.js'
import { CHECK_BYTES_PER_SKIPPED, FrameScanner } from '../src/scan.js'
import { isolatedEnv, startCollector, startCollectorProcess, startProducer, until } from './helpers.js'

const MiB = 1024 * 1024

/** Writes `n` bytes of garbage at `p`: a frame header every 12 bytes, each claiming a frame of `claim` bytes. */
function hostileGarbage(ring: Ring, p: number, n: number, claim: number): void {
  const header = Buffer.alloc(12)
  header.write('LK', 0, 'latin1')
  header[2] = 1
  header.writeUInt32LE(claim, 4)
  for (let i = 0; i + 12 <= n; i += 12) ring.put(p + i, header, 0, 12)
}

function entryFrame(msg: string): Buffer {
  return Buffer.from(
    new FrameEncoder().entry({
      time: 1n,
      level: 30,
      msg,
      app: 'hostile',
      source: 'h',
      pid: process.pid,
      hostname: '',
      seq: 1,
      fields: '',
    }),
  )
}

t.test(
  'headers planted in garbage cost a bounded CRC per skipped byte, and the frame after is found',
  (t) => {
    const env = isolatedEnv()
    const dir = runtimePaths('scan', env).memoryDir
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const ring = Ring.create(join(dir, `scan.${process.pid}.x.ring`), 4 * MiB)
    const garbage = 3 * MiB
    hostileGarbage(ring, 0, garbage, MiB - 12)
    const frame = entryFrame('after')
    ring.put(garbage, frame, 0, frame.length)
    const end = garbage + frame.length
    const scanner = new FrameScanner(MiB)
    let p = 0
    let skipped = 0
    let found: string | undefined
    while (p < end) {
      const f = scanner.at(ring, p, end - p)
      if (f === undefined) {
        scanner.skipped(1)
        skipped++
        p++
        continue
      }
      found = `${p}:${f.size}`
      p += f.size
    }
    t.equal(found, `${garbage}:${frame.length}`, 'the real frame after the garbage is found, and only it')
    t.equal(skipped, garbage, 'every garbage byte is skipped')
    t.ok(
      scanner.failedCheckBytes <= MiB + CHECK_BYTES_PER_SKIPPED * skipped,
      `failed checks cost ${scanner.failedCheckBytes} bytes of CRC, within one largest frame plus ${CHECK_BYTES_PER_SKIPPED} per skipped byte`,
    )
    ring.close()
    t.end()
  },
)

t.test('the collector skips 3 MiB of planted headers and reads the frame after them', async (t) => {
  const env = isolatedEnv()
  const transport = shm({ app: 'hostile', source: 'h', capacity: 4 * MiB, env })
  const ring = transport.ring
  const garbage = 3 * MiB
  hostileGarbage(ring, 0, garbage, MiB - 12)
  const frame = entryFrame('after')
  ring.put(garbage, frame, 0, frame.length)
  Atomics.store(ring.header, TAIL_INDEX, garbage + frame.length)
  const { pipeline, sink, diagnostics } = await startCollector('hostile', env)
  await until(() => sink.entries.some((e) => e.msg === 'after'), 120_000, 'the frame after the garbage')
  const skipped = diagnostics
    .filter((d) => d.code === 'frame_corrupt')
    .reduce((n, d) => n + (d.count ?? 0), 0)
  t.equal(skipped, garbage, 'exactly the garbage bytes are counted as skipped')
  await pipeline.close()
})

t.test('a TAIL set behind READ is refused, not read as 4 GiB; other producers flow on', async (t) => {
  const env = isolatedEnv()
  const { pipeline, sink, diagnostics } = await startCollector('behind', env)
  const transport = shm({ app: 'behind', source: 'bad', capacity: MIN_CAPACITY, env })
  const log = createLogger({ app: 'behind', source: 'bad', transport })
  for (let i = 0; i < 10; i++) log.info({ i }, 'before')
  await until(() => sink.entries.length === 10, 30_000, 'the first ten entries')
  Atomics.store(transport.ring.header, TAIL_INDEX, (transport.ring.tail - 1) | 0)
  const good = await startProducer(env, ['behind', 'good', 100]).result
  t.equal(good.code, 0, 'another producer ran')
  await until(() => sink.entries.length === 110, 30_000, 'the other producer’s 100 entries')
  await until(
    () => diagnostics.some((d) => d.code === 'ring_invalid' && d.details?.['reason'] === 'positions'),
    30_000,
    'the refusal',
  )
  const skipped = diagnostics
    .filter((d) => d.code === 'frame_corrupt')
    .reduce((n, d) => n + (d.count ?? 0), 0)
  t.equal(skipped, 0, 'no byte was scanned as garbage')
  await pipeline.close()
})

t.test('a ring file truncated under the collector is refused, not a SIGBUS', async (t) => {
  const env = isolatedEnv()
  const out = join(tempDir('logkit-trunc-'), 'lines.txt')
  const collector = await startCollectorProcess('trunc', env, out)
  t.teardown(() => {
    collector.child.kill('SIGKILL')
  })
  // Two producers of their own (a producer whose own ring is cut SIGBUSes, as any
  // program whose mapped file is truncated under it: that is not what is tested here).
  const memoryDir = runtimePaths('trunc', env).memoryDir
  const victims = ['short', 'empty'].map((source) =>
    startProducer({ ...env, FIXTURE_THEN: '1' }, ['trunc', source, 1, MIN_CAPACITY]),
  )
  t.teardown(() => {
    for (const v of victims) v.child.kill('SIGKILL')
  })
  await until(() => readFileSync(out, 'utf8').split('\n').length > 2, 30_000, 'both producers’ entries read')
  const ringOf = (source: string) =>
    join(memoryDir, readdirSync(memoryDir).find((n) => n.startsWith(`${source}.`)) ?? '')
  // One keeps its header page but loses its data, and claims 1000 new bytes; the other loses everything.
  const short = ringOf('short')
  truncateSync(short, 4096)
  const header = new Int32Array(native().map(short, 0, false))
  Atomics.store(header, TAIL_INDEX, (Atomics.load(header, TAIL_INDEX) + 1000) | 0)
  truncateSync(ringOf('empty'), 0)
  const goodProducer = startProducer(env, ['trunc', 'good', 100])
  const good = await goodProducer.result
  t.equal(good.code, 0, 'another producer ran')
  const lines = () =>
    readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${goodProducer.child.pid} `))
  await Promise.race([
    until(
      () => collector.diagnostics.filter((d) => d.code === 'ring_invalid').length === 2,
      30_000,
      'both refusals',
    ),
    collector.exited.then(({ signal }) => {
      throw new Error(`the collector died (${signal})`)
    }),
  ])
  await until(() => lines().length === 100, 30_000, 'the other producer’s 100 entries')
  t.same(
    collector.diagnostics
      .filter((d) => d.code === 'ring_invalid')
      .map((d) => d.details?.['reason'])
      .sort(),
    ['truncated', 'truncated'],
    'both truncated rings refused, by name',
  )
  t.equal(collector.child.exitCode, null, 'the collector is still running')
  t.equal(collector.child.signalCode, null, 'no signal killed it')
})

t.test('a live producer whose pid the collector cannot see is not reaped', async (t) => {
  // What a sidecar in another PID namespace, or a recycled pid, looks like from here.
  let fake = 4_194_000
  while (processAlive(fake)) fake--
  const env = isolatedEnv()
  const { pipeline, sink, diagnostics } = await startCollector('ns', env, { reapIntervalMs: 20 })
  const producer = startProducer({ ...env, FIXTURE_FAKE_PID: String(fake), FIXTURE_THEN: '100' }, [
    'ns',
    'sidecar',
    100,
  ])
  await until(() => sink.entries.length === 100, 30_000, 'the first 100 entries')
  // Many reaper passes over the drained ring while its producer idles.
  await new Promise((r) => setTimeout(r, 500))
  t.equal(
    diagnostics.filter((d) => d.code === 'producer_exited').length,
    0,
    'the idle producer is not taken for gone',
  )
  producer.child.stdin?.write('more\n')
  await until(() => sink.entries.length === 200, 30_000, 'the next 100 entries')
  t.equal(sink.entries.length, 200, 'entries written after the idle time arrive')
  producer.child.stdin?.end()
  const { code } = await producer.result
  t.equal(code, 0, 'the producer exited')
  await until(() => diagnostics.some((d) => d.code === 'producer_exited'), 30_000, 'the exit report')
  t.equal(
    diagnostics.find((d) => d.code === 'producer_exited')?.details?.['clean'],
    true,
    'seen as a clean exit',
  )
  await pipeline.close()
})

t.test(
  'a ring found while its producer is still creating it (an empty file) is read once it is ready',
  async (t) => {
    const env = isolatedEnv()
    const dir = runtimePaths('early', env).memoryDir
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    // What a scan sees between the producer's O_CREAT and its posix_fallocate.
    const early = join(dir, `early.${process.pid}.creating${'.ring'}`)
    writeFileSync(early, '', { mode: 0o600 })
    const { pipeline, sink, diagnostics } = await startCollector('early', env, { reapIntervalMs: 50 })
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.same(
      diagnostics.filter((d) => d.code === 'ring_invalid'),
      [],
      'the empty ring is not refused while it may still be being created',
    )
    // The producer finishes: its complete ring (made aside, so that the
    // collector cannot find it under another name first) takes the name the
    // collector saw.
    const transport = shm({ app: 'early-aside', source: 'early', capacity: MIN_CAPACITY, env })
    const log = createLogger({ app: 'early', source: 'early', transport })
    for (let i = 1; i <= 50; i++) log.info({ i }, `entry ${i}`)
    renameSync(transport.ring.path, early)
    await until(
      () => sink.entries.filter((e) => e.source === 'early').length === 50,
      30_000,
      'all 50 entries',
    )
    t.equal(sink.entries.filter((e) => e.source === 'early').length, 50, 'every entry of that ring is read')
    await log.close()
    await pipeline.close()
  },
)
