// Issue 11, item 5: a full /dev/shm never SIGBUSes a producer, and rings of
// dead producers do not pile up while no collector runs.

import { execFileSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { createLogger, runtimePaths } from '@logkit/core'
import { tempDir } from '@logkit/core/testing'
import t from 'tap'
import { DEFAULT_CAPACITY, HEADER_BYTES, MIN_CAPACITY, RING_SUFFIX } from '../src/layout.js'
import { shm } from '../src/producer.js'
import { isolatedEnv, startCollector, startProducer, until } from './helpers.js'

/** A fresh tmpfs of `size`, or undefined (with the reason) where mounting is not allowed. */
function smallTmpfs(size: string): { dir: string; unmount: () => void } | string {
  const dir = tempDir('logkit-tmpfs-')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    return `cannot mount a tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}`
  }
  return {
    dir,
    unmount: () => {
      // Lazily: the collector's mappings of removed rings go when they are collected.
      execFileSync('umount', ['-l', dir])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const ringsIn = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(RING_SUFFIX)) : []

t.test('a 6 MiB /dev/shm and two 4 MiB rings: no SIGBUS, a smaller ring, then a clear error', async (t) => {
  const mount = smallTmpfs('6m')
  if (typeof mount === 'string') return t.skip(mount)
  t.teardown(mount.unmount)
  const env = { ...isolatedEnv(), LOGKIT_SHM_DIR: mount.dir }
  // Each producer writes far more than 4 MiB with no collector: its ring's every page is written.
  const first = await startProducer(env, ['full', 'a', 40_000, '', 'drop', '', 0, '', '--no-close']).result
  t.same([first.code, first.signal], [0, null], 'the first producer ran to the end')
  t.equal(first.out?.capacity, DEFAULT_CAPACITY, 'with the 4 MiB it asked for')
  const second = await startProducer(env, ['full', 'b', 40_000, '', 'drop', '', 0, '', '--no-close']).result
  t.same([second.code, second.signal], [0, null], 'the second producer ran to the end: no Bus error')
  t.ok(
    (second.out?.capacity ?? 0) < DEFAULT_CAPACITY && (second.out?.capacity ?? 0) >= MIN_CAPACITY,
    `with a smaller ring that fits (${second.out?.capacity} bytes)`,
  )

  // Fill what is left; then not even the smallest ring fits: shm() says so, and leaves nothing behind.
  const memoryDir = runtimePaths('full', env).memoryDir
  const filler = openSync(join(mount.dir, 'filler'), 'w')
  const block = Buffer.alloc(64 * 1024)
  try {
    for (;;) writeSync(filler, block)
  } catch {}
  closeSync(filler)
  const before = ringsIn(memoryDir)
  t.throws(
    () => shm({ app: 'full', source: 'c', env }),
    { code: 'LOGKIT_ERR_SHM_NO_SPACE' },
    'no room even for 64 KiB: a LogkitError the caller can act on',
  )
  t.same(ringsIn(memoryDir), before, 'and no partial ring file is left')
  rmSync(join(mount.dir, 'filler'))

  // A collector salvages both rings whole, then removes them.
  const { pipeline, sink, diagnostics } = await startCollector('full', env)
  await until(
    () => diagnostics.filter((d) => d.code === 'producer_exited').length === 2,
    60_000,
    'both rings salvaged',
  )
  const delivered = sink.entries.length
  const dropped = (first.out?.dropped ?? 0) + (second.out?.dropped ?? 0)
  t.equal(delivered + dropped, 80_000, 'every entry delivered or counted as dropped')
  t.same(ringsIn(memoryDir), [], 'the drained rings of the dead producers are removed')
  await pipeline.close()
})

t.test('a producer that closes with nothing left to deliver and no collector removes its ring', async (t) => {
  const env = isolatedEnv()
  const { pipeline, sink } = await startCollector('tidy', env)
  const transport = shm({ app: 'tidy', source: 't', capacity: MIN_CAPACITY, env })
  const log = createLogger({ app: 'tidy', source: 't', transport })
  for (let i = 0; i < 100; i++) log.info({ i }, 'entry')
  await until(() => sink.entries.length === 100, 30_000, 'the collector to read all 100')
  await until(() => transport.ring.head === transport.ring.tail, 30_000, 'the acknowledgements')
  await pipeline.close()
  await log.close()
  t.notOk(existsSync(transport.ring.path), 'its acknowledged ring (only the goodbye after HEAD) is removed')

  const unread = shm({ app: 'tidy', source: 'u', capacity: MIN_CAPACITY, env })
  const unreadLog = createLogger({ app: 'tidy', source: 'u', transport: unread })
  unreadLog.info('nobody has read me')
  await unreadLog.close()
  t.ok(existsSync(unread.ring.path), 'a ring with an unread entry is kept for the next collector')
})

t.test('a new producer removes drained rings of dead producers, and keeps the rest', async (t) => {
  const env = isolatedEnv()
  const memoryDir = runtimePaths('sweep', env).memoryDir
  // A producer whose entries a collector read and acknowledged, killed after that collector stopped.
  const { pipeline, sink } = await startCollector('sweep', env)
  const drained = startProducer({ ...env, FIXTURE_THEN: '1' }, ['sweep', 'drained', 100, MIN_CAPACITY])
  await until(() => sink.entries.length === 100, 30_000, 'the collector to read all 100')
  await pipeline.close()
  // One with unread entries, killed too.
  const unread = startProducer({ ...env, FIXTURE_THEN: '1' }, ['sweep', 'unread', 100, MIN_CAPACITY])
  // Listening from the start: its line may come before the ring is seen.
  const lines = new Promise((resolve) => unread.child.stdout?.once('data', resolve))
  await until(() => ringsIn(memoryDir).length === 2, 30_000, 'the second ring')
  await lines
  drained.child.kill('SIGKILL')
  unread.child.kill('SIGKILL')
  await Promise.all([drained.result, unread.result])
  // And a file whose producer died while creating it: no header, no lock, old.
  mkdirSync(memoryDir, { recursive: true })
  const abandoned = join(memoryDir, `abandoned.1.x${RING_SUFFIX}`)
  writeFileSync(abandoned, Buffer.alloc(HEADER_BYTES + MIN_CAPACITY), { mode: 0o600 })
  utimesSync(abandoned, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000))
  t.equal(ringsIn(memoryDir).length, 3, 'three rings left behind')

  const fresh = shm({ app: 'sweep', source: 'fresh', capacity: MIN_CAPACITY, env })
  const left = ringsIn(memoryDir)
  t.notOk(
    left.some((n) => n.startsWith('drained.')),
    'the drained ring of the dead producer is removed',
  )
  t.notOk(existsSync(abandoned), 'so is the abandoned creation')
  t.ok(
    left.some((n) => n.startsWith('unread.')),
    'the dead producer’s ring with unread entries is kept',
  )
  await fresh.close()
})
