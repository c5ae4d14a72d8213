import { lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { CAPABILITY_DROP_REASONS, createLogger, FrameEncoder, runtimePaths } from '@logkit/core'
import t from 'tap'
import { DropLedger } from '../src/drops.js'
import {
  DROPS_ANNOUNCED_INDEX,
  DROPS_REPORTED_INDEX,
  DROPS_REPORTED_TOO_LARGE_INDEX,
  HEAD_INDEX,
  MIN_CAPACITY,
  TAIL_INDEX,
} from '../src/layout.js'
import { shm } from '../src/producer.js'
import { Ring } from '../src/ring.js'
import { isolatedEnv, seqsByPid, startCollector, startProducer, until } from './helpers.js'

t.test('frames that straddle the end of the ring arrive intact, across many wrap-arounds', async (t) => {
  const env = isolatedEnv()
  const { pipeline, sink } = await startCollector('wrap', env)
  const transport = shm({ app: 'wrap', source: 'wrapper', capacity: MIN_CAPACITY, env })
  const log = createLogger({ app: 'wrap', source: 'wrapper', transport })
  // Sizes chosen so frame boundaries fall everywhere relative to the 64 KiB end.
  for (let i = 1; i <= 3000; i++) {
    log.info({ i, blob: 'é✓'.repeat((i * 37) % 900) }, `entry ${i}`)
    // Producer and collector share this thread here: let the collector read.
    await new Promise((r) => setImmediate(r))
  }
  await log.close()
  await until(
    () => sink.entries.filter((e) => e.source === 'wrapper').length === 3000,
    30_000,
    '3000 entries',
  )
  const got = sink.entries.filter((e) => e.source === 'wrapper')
  t.ok(
    got.every(
      (e, i) =>
        e.seq === i + 1 &&
        e.msg === `entry ${i + 1}` &&
        (e.fields.get('blob') as string).length === (((i + 1) * 37) % 900) * 2,
    ),
    'every entry intact, in order',
  )
  t.ok(Number(transport.ring.tail) > MIN_CAPACITY * 10, 'the ring wrapped more than ten times')
  t.equal(transport.dropped, 0, 'nothing dropped')
  await pipeline.close()
})

t.test('the largest frame a ring can hold goes through; a larger one is dropped and counted', async (t) => {
  const env = isolatedEnv()
  const { pipeline, sink } = await startCollector('big', env)
  const transport = shm({ app: 'big', source: 'big', capacity: MIN_CAPACITY, env })
  const log = createLogger({ app: 'big', source: 'big', transport })
  // The longest text whose frame still fits the whole ring, encoded as the logger encodes it.
  const frameSize = (length: number) =>
    new FrameEncoder().entry({
      time: 1n,
      level: 30,
      msg: 'fits',
      app: 'big',
      source: 'big',
      pid: process.pid,
      hostname: hostname(),
      seq: 2,
      fields: JSON.stringify({ text: 'x'.repeat(length) }),
    }).length
  let n = MIN_CAPACITY - 200
  while (frameSize(n + 1) <= MIN_CAPACITY) n++
  // The hello frame goes first; let it be read and released so the ring is empty.
  log.info('first')
  await until(() => transport.ring.head === transport.ring.tail, 30_000, 'the ring to empty')
  t.equal(frameSize(n), MIN_CAPACITY, 'a frame of exactly the ring’s capacity')
  log.info({ text: 'x'.repeat(n) }, 'fits')
  // It fills the ring: wait until the collector has read and released it.
  await until(
    () => transport.ring.head === transport.ring.tail && transport.ring.tail > 0,
    30_000,
    'the ring to empty',
  )
  log.info({ text: 'x'.repeat(MIN_CAPACITY) }, 'too big')
  log.info('after')
  await new Promise((r) => setImmediate(r))
  await until(() => sink.entries.some((e) => e.msg === 'after'), 30_000, 'the entry after')
  const msgs = sink.entries.filter((e) => e.source === 'big').map((e) => e.msg)
  t.same(
    msgs,
    ['first', 'fits', 'after'],
    'the fitting frame and the next one arrive; the oversized one does not',
  )
  t.equal(transport.dropped, 1, 'the oversized frame is counted as dropped')
  t.equal(log.stats.dropped, 1, 'by the logger too, which announces it')
  await log.close()
  await pipeline.close()
})

t.test(
  'a full ring with policy drop: every drop is counted, and the collector reports exactly as many',
  async (t) => {
    const env = isolatedEnv()
    // No collector while the producer runs: the 64 KiB ring fills, the rest is dropped.
    const { result } = startProducer(env, ['full', 'dropper', 5000, MIN_CAPACITY, 'drop'])
    const { code, out } = await result
    t.equal(code, 0, 'the producer never blocked or failed')
    t.ok((out?.dropped ?? 0) > 0, `the producer dropped ${out?.dropped} entries`)
    const { pipeline, sink, diagnostics } = await startCollector('full', env)
    await until(() => diagnostics.some((d) => d.code === 'producer_exited'), 30_000, 'the exit report')
    const delivered = sink.entries.length
    const reported = diagnostics.filter((d) => d.code === 'dropped').reduce((n, d) => n + (d.count ?? 0), 0)
    t.equal(delivered + (out?.dropped ?? 0), 5000, 'delivered plus dropped is everything logged')
    t.equal(reported, out?.dropped, 'the collector reports exactly the producer’s drops')
    t.equal(diagnostics.filter((d) => d.code === 'seq_gap').length, 0, 'and no unexplained gap')
    await pipeline.close()
  },
)

t.test('a full ring with policy block: a bounded wait, then drops counted exactly', async (t) => {
  const env = isolatedEnv()
  const { result } = startProducer(env, ['fullb', 'blocker', 1500, MIN_CAPACITY, 'block', '', 0, 2])
  const { code, out } = await result
  t.equal(code, 0, 'the producer finished: each wait was bounded')
  t.ok((out?.dropped ?? 0) > 0, 'entries that found no room after the wait were dropped')
  const { pipeline, sink, diagnostics } = await startCollector('fullb', env)
  await until(() => diagnostics.some((d) => d.code === 'producer_exited'), 30_000, 'the exit report')
  const reported = diagnostics.filter((d) => d.code === 'dropped').reduce((n, d) => n + (d.count ?? 0), 0)
  t.equal(sink.entries.length + (out?.dropped ?? 0), 1500, 'delivered plus dropped is everything logged')
  t.equal(reported, out?.dropped, 'the collector reports exactly the producer’s drops')
  await pipeline.close()
})

t.test('with a collector reading, block loses nothing even through a small ring', async (t) => {
  const env = isolatedEnv()
  const { pipeline, sink } = await startCollector('flow', env)
  const { result } = startProducer(env, ['flow', 'steady', 20_000, MIN_CAPACITY, 'block', '', 0, 5000])
  const { out } = await result
  t.equal(out?.dropped, 0, 'nothing dropped')
  await until(() => sink.entries.length === 20_000, 30_000, '20,000 entries')
  t.same([...seqsByPid(sink.entries).values()][0]?.length, 20_000, 'all 20,000 arrived')
  await pipeline.close()
})

t.test(
  'a ring with a corrupt header is refused with a warning; the other producers keep flowing',
  async (t) => {
    const env = isolatedEnv()
    const paths = runtimePaths('corrupt', env)
    mkdirSync(paths.memoryDir, { recursive: true, mode: 0o700 })
    writeFileSync(join(paths.memoryDir, 'bogus.1.x.ring'), Buffer.alloc(256 + MIN_CAPACITY, 7), {
      mode: 0o600,
    })
    const { pipeline, sink, diagnostics } = await startCollector('corrupt', env)
    const { result } = startProducer(env, ['corrupt', 'good', 1000])
    await result
    await until(() => sink.entries.length === 1000, 30_000, '1000 entries from the good producer')
    t.ok(
      diagnostics.some(
        (d) => d.code === 'ring_invalid' && String(d.details?.['file']).endsWith('bogus.1.x.ring'),
      ),
      'the corrupt ring is named in a warning',
    )
    t.ok(readdirSync(paths.memoryDir).includes('bogus.1.x.ring'), 'and left in place, not deleted')
    await pipeline.close()
  },
)

t.test('garbage inside a ring is skipped and counted; the frames after it are recovered', async (t) => {
  const env = isolatedEnv()
  const transport = shm({ app: 'garbage', source: 'g', capacity: MIN_CAPACITY, env })
  const log = createLogger({ app: 'garbage', source: 'g', transport })
  log.info('before')
  // Splice 100 bytes of garbage (with a stray magic) between two frames.
  const ring = transport.ring
  const tail = ring.tail
  const junk = Buffer.alloc(100, 0xab)
  junk.write('LK', 10, 'latin1')
  junk.copy(ring.data, tail & ring.mask)
  Atomics.store(ring.header, TAIL_INDEX, tail + 100)
  // The transport keeps its own tail; write the next frames after the junk by hand.
  const encoder = new FrameEncoder()
  const frame = encoder.entry({
    time: 1n,
    level: 30,
    msg: 'after',
    app: 'garbage',
    source: 'g',
    pid: process.pid,
    hostname: '',
    seq: 3,
    fields: '',
  })
  Buffer.from(frame).copy(ring.data, (tail + 100) & ring.mask)
  Atomics.store(ring.header, TAIL_INDEX, tail + 100 + frame.length)
  const { pipeline, sink, diagnostics } = await startCollector('garbage', env)
  await until(() => sink.entries.some((e) => e.msg === 'after'), 30_000, 'the frame after the garbage')
  t.same(
    sink.entries.map((e) => e.msg),
    ['before', 'after'],
    'both real entries arrive',
  )
  const skipped = diagnostics
    .filter((d) => d.code === 'frame_corrupt')
    .reduce((n, d) => n + (d.count ?? 0), 0)
  t.equal(skipped, 100, 'exactly the 100 garbage bytes are counted')
  await until(() => Atomics.load(ring.header, HEAD_INDEX) >>> 0 === ring.tail, 10_000, 'the release')
  t.equal(
    Atomics.load(ring.header, HEAD_INDEX) >>> 0,
    tail + 100 + frame.length,
    'once acknowledged, the ring is released past the garbage',
  )
  await pipeline.close()
})

t.test('ring files are 0600 in 0700 directories; symlinks are refused', async (t) => {
  const env = isolatedEnv()
  const transport = shm({ app: 'secure', source: 's', env })
  const paths = runtimePaths('secure', env)
  t.equal(statSync(transport.ring.path).mode & 0o777, 0o600, 'ring file 0600')
  t.equal(statSync(paths.memoryDir).mode & 0o777, 0o700, 'app shm dir 0700')
  t.equal(statSync(join(paths.memoryDir, '..')).mode & 0o777, 0o700, 'per-user shm dir 0700')
  await transport.close()

  const planted = join(paths.memoryDir, 'planted.1.x.ring')
  symlinkSync(transport.ring.path, planted)
  t.ok(lstatSync(planted).isSymbolicLink(), 'a symlink is planted where a ring could be')
  t.throws(() => Ring.open(planted), { code: 'ELOOP' }, 'opening it does not follow the link')
  t.throws(() => Ring.create(planted, MIN_CAPACITY), { code: 'EEXIST' }, 'creating over it is refused')
  const { pipeline, diagnostics } = await startCollector('secure', env)
  await until(() => diagnostics.some((d) => d.code === 'ring_invalid'), 10_000, 'the warning')
  t.ok(
    diagnostics.some(
      (d) => d.code === 'ring_invalid' && String(d.details?.['file']).endsWith('planted.1.x.ring'),
    ),
    'the collector refuses the symlinked ring with a warning',
  )
  await pipeline.close()
})

t.test('capacities that are not powers of two in range are refused', (t) => {
  const env = isolatedEnv()
  t.throws(() => shm({ app: 'cap', capacity: 100_000, env }), { code: 'LOGKIT_ERR_SHM_CAPACITY' })
  t.throws(() => shm({ app: 'cap', capacity: 1024, env }), { code: 'LOGKIT_ERR_SHM_CAPACITY' })
  t.end()
})

t.test('put copies any byte range to any position, byte for byte, wrapping at the end', (t) => {
  const env = isolatedEnv()
  const paths = runtimePaths('put', env)
  mkdirSync(paths.memoryDir, { recursive: true, mode: 0o700 })
  const ring = Ring.create(join(paths.memoryDir, `put.${process.pid}.0.ring`), MIN_CAPACITY)
  // Sources at every alignment: a buffer of its own, a slice at an odd
  // offset into another, and ranges ending at the buffer's last byte (where
  // the last word is partial: the copy falls back to Buffer#copy).
  const own = Buffer.alloc(4099)
  const pooled = Buffer.alloc(305).subarray(1)
  for (const b of [own, pooled]) for (let i = 0; i < b.length; i++) b[i] = (i * 131 + 7) & 255
  let bad = 0
  let wrapped = 0
  let seed = 42
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
  for (let i = 0; i < 4000; i++) {
    const src = i % 3 === 0 ? pooled : own
    const n = 1 + random(Math.min(src.length, 400))
    const start = i % 7 === 0 ? src.length - n : random(src.length - n + 1)
    // Positions near the end of the ring make the copy wrap.
    const p = i % 5 === 0 ? MIN_CAPACITY - random(n + 1) : random(MIN_CAPACITY) + MIN_CAPACITY * random(3)
    const before = Buffer.from(ring.data)
    ring.put(p, src, start, start + n)
    const after = ring.data
    if ((p & ring.mask) + n > MIN_CAPACITY) wrapped++
    for (let k = 0; k < MIN_CAPACITY; k++) {
      const rel = (k - (p & ring.mask) + MIN_CAPACITY) & ring.mask
      const want = rel < n ? src[start + rel] : before[k]
      if (after[k] !== want) {
        bad++
        break
      }
    }
  }
  t.ok(wrapped > 100, `copies that wrap around the end were among them (${wrapped})`)
  t.equal(bad, 0, 'every copy wrote exactly its range, nothing around it')
  t.equal(pooled.byteOffset % 4, 1, 'a source at an offset that is not a multiple of 4 was used')
  t.end()
})

t.test('the drop ledger reports each reason within the total owed, and keeps what the hello said', (t) => {
  const env = isolatedEnv()
  const paths = runtimePaths('ledger', env)
  mkdirSync(paths.memoryDir, { recursive: true, mode: 0o700 })
  const ring = Ring.create(join(paths.memoryDir, `ledger.${process.pid}.0.ring`), MIN_CAPACITY)
  t.teardown(() => ring.close())
  const header = ring.header
  // As an older collector leaves a ring: 5 announced and reported in total, no reason counted.
  Atomics.store(header, DROPS_ANNOUNCED_INDEX, 5)
  Atomics.store(header, DROPS_REPORTED_INDEX, 5)
  const ledger = new DropLedger(ring)
  // The goodbye's totals: 7 in all, of which 4 too large (some of those told before, without a reason).
  ledger.frame(
    { type: 'goodbye', lastSeq: 1, dropped: 7, droppedTooLarge: 4, droppedUnserializable: 0 },
    ring.read,
  )
  t.same(
    ledger.take(),
    { dropped: 2, droppedTooLarge: 2, droppedUnserializable: 0 },
    'the 2 owed, no more of them too large than owed',
  )
  t.same(ledger.take(), { dropped: 0, droppedTooLarge: 0, droppedUnserializable: 0 }, 'then nothing')
  t.equal(
    Atomics.load(header, DROPS_REPORTED_TOO_LARGE_INDEX),
    2,
    'the reason counted as reported only as told',
  )

  const hello = { ...helloOf(), capabilities: [] as string[] }
  t.equal(ledger.reasonsKnown(undefined), true, 'nothing known: taken as this version')
  t.equal(ledger.reasonsKnown(hello), false, 'an older producer’s hello says no reasons')
  t.equal(
    new DropLedger(ring).reasonsKnown(undefined),
    false,
    'and the next collector, without the hello, knows it',
  )
  t.equal(ledger.reasonsKnown({ ...hello, capabilities: [CAPABILITY_DROP_REASONS] }), true)
  t.end()
})

function helloOf() {
  return { app: 'ledger', source: 's', pid: 1, hostname: 'h', protocol: 1, transport: 'shm', startTime: 1n }
}
