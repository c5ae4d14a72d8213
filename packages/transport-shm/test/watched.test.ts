// A collector's ring mappings are watched: when another process cuts a ring
// file short, a read past the cut reads zeros and counts a fault (Ring#whole
// turns false) instead of killing the collector with SIGBUS. A mapping that
// is not watched keeps the default: the process dies of SIGBUS, as any
// program whose mapped file is truncated under it.

import { spawnSync } from 'node:child_process'
import { rmSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { shmParent, tempDir } from '@logkit/core/testing'
import t from 'tap'
import { HEADER_BYTES, MIN_CAPACITY, RING_MAGIC } from '../src/layout.js'
import { native } from '../src/native.js'
import { Ring } from '../src/ring.js'

const dir = tempDir('logkit-watched-', shmParent())
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

t.test('a read past the cut of a watched mapping reads zeros and counts a fault', async (t) => {
  const path = join(dir, 'cut.ring')
  writeFileSync(path, Buffer.alloc(64 * 1024, 7), { mode: 0o600 })
  const [sab, slot] = native().open(path)
  t.ok(slot >= 0, 'the mapping has a slot')
  const faults = new Int32Array(native().faults())
  const bytes = new Uint8Array(sab)
  t.equal(faults[slot], 0, 'no fault yet')
  truncateSync(path, 4096)
  t.equal(bytes[100], 7, 'the page left in the file reads as before')
  t.equal(bytes[20_000], 0, 'a page past the cut reads zeros')
  t.equal(faults[slot], 1, 'one fault counted')
  t.equal(Buffer.from(sab).indexOf(7, 8192), -1, 'every page past the cut reads zeros')
  t.ok((faults[slot] as number) > 1, 'a fault counted for each page read')
})

t.test('Ring#whole turns false once a read found the file cut short', async (t) => {
  const path = join(dir, 'ring.ring')
  const created = Ring.create(path, MIN_CAPACITY)
  const ring = Ring.open(path)
  t.ok(ring.whole(), 'whole while nothing is cut')
  truncateSync(path, HEADER_BYTES)
  t.ok(ring.whole(), 'still whole: no read went past the cut')
  t.notOk(ring.intact(), 'its size says it is short')
  t.equal(ring.data[MIN_CAPACITY - 1], 0, 'the last data byte reads as zero')
  t.notOk(ring.whole(), 'no longer whole')
  t.equal(Atomics.load(ring.header, 0), RING_MAGIC, 'the header page, still in the file, reads as before')
  ring.close()
  created.close()
})

t.test('a mapping that is not watched still dies of SIGBUS', async (t) => {
  const path = join(dir, 'plain.ring')
  writeFileSync(path, Buffer.alloc(64 * 1024, 7), { mode: 0o600 })
  // A child installs the handler (a watched mapping of its own), then reads past the cut of a plain one.
  const script = `
    const { truncateSync, writeFileSync } = require('node:fs')
    const n = require(${JSON.stringify(join(import.meta.dirname, '../build/Release/logkit_shm.node'))})
    writeFileSync(${JSON.stringify(`${path}.other`)}, Buffer.alloc(8192), { mode: 0o600 })
    n.open(${JSON.stringify(`${path}.other`)})
    const plain = new Uint8Array(n.map(${JSON.stringify(path)}, 0, false))
    truncateSync(${JSON.stringify(path)}, 4096)
    console.log('read', plain[20000])
  `
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  t.equal(run.signal, 'SIGBUS', 'the child died of SIGBUS')
  t.notMatch(run.stdout, /read/, 'the read did not return')
})
