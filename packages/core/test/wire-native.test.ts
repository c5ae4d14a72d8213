// The native loops (@logkit/wire-native) against the TypeScript ones, which
// the other wire tests hold to decodeFrame + formatJson: over random regions
// of real frames and over the same regions damaged every way the hostile
// tests damage them, both indexes hold the same columns and counts and stop at
// the same byte for the same reason, and both renderers write the same bytes,
// stop at the same entries and count the same invalid fields, whichever index
// they read. wire-render-js.test.ts and wire-hostile-js.test.ts run the oracle
// tests again with the TypeScript loops (the plain ones run the native loops,
// the default where the addon is installed, as here).

import { execFileSync } from 'node:child_process'
import { crc32 as zlibCrc32 } from 'node:zlib'
import t from 'tap'
import { writeFrameHeader } from '../src/framing.js'
import {
  EntryIndex,
  type EntryIndexOptions,
  JsonRenderer,
  requireWireNative,
  SPAN_STRIDE,
  wireImplementation,
} from '../src/wire/index.js'
import { random } from './helpers.js'
import { frameOf, randomRegion } from './wire-frames.js'

t.equal(wireImplementation(), 'native', 'the addon is built and loaded in this repository (npm ci builds it)')

type Columns = Record<string, unknown>

/** Everything an index says about buf[start, end), rows beyond its counts left out. */
function indexed(options: EntryIndexOptions, buf: Buffer, start: number, end: number): Columns {
  const index = new EntryIndex({ ...options, capacity: 4 })
  index.index(buf, start, end)
  const n = index.entries
  const m = index.frames
  return {
    end: index.end,
    stop: index.stop,
    entries: n,
    frames: m,
    invalidEntries: index.invalidEntries,
    malformedFrames: index.malformedFrames,
    valid: [...index.valid.subarray(0, n)],
    level: [...index.level.subarray(0, n)],
    pid: [...index.pid.subarray(0, n)],
    seq: [...index.seq.subarray(0, n)],
    timeHi: [...index.timeHi.subarray(0, n)],
    timeLo: [...index.timeLo.subarray(0, n)],
    spans: [...index.spans.subarray(0, n * SPAN_STRIDE)],
    entryFrame: [...index.entryFrame.subarray(0, n)],
    frameStart: [...index.frameStart.subarray(0, m)],
    frameEnd: [...index.frameEnd.subarray(0, m)],
    frameKind: [...index.frameKind.subarray(0, m)],
    frameFlags: [...index.frameFlags.subarray(0, m)],
    frameFirstEntry: [...index.frameFirstEntry.subarray(0, m)],
    frameEntryCount: [...index.frameEntryCount.subarray(0, m)],
    frameDropped: [...index.frameDropped.subarray(0, m)],
  }
}

/** The first column where two indexes differ, or undefined. */
function difference(a: Columns, b: Columns): string | undefined {
  for (const key of Object.keys(a)) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return key
  }
  return undefined
}

/** What a renderer makes of an index in chunks of `size` bytes: the bytes, each call's answer, the invalid count. */
function rendered(r: JsonRenderer, index: EntryIndex, selection?: Int32Array) {
  const chunks: Buffer[] = []
  const stops: number[] = []
  const to = selection === undefined ? index.entries : selection.length
  let k = 0
  while (k < to && stops.length < 1e5) {
    k = selection === undefined ? r.render(index, k, to) : r.renderSelection(index, selection, k, to)
    stops.push(k)
    chunks.push(Buffer.from(r.bytes()))
    r.reset()
  }
  return { bytes: Buffer.concat(chunks).toString('latin1'), stops: stops.join(','), invalid: r.invalidFields }
}

/** A region's bytes damaged at random: byte flips, a run of 0x00/0xff, a cut, garbage inserted. */
function damaged(rnd: () => number, buf: Buffer): Buffer {
  const copy = Buffer.from(buf)
  const how = Math.floor(rnd() * 4)
  const at = Math.floor(rnd() * copy.length)
  if (how === 0)
    for (let k = 0; k < 1 + rnd() * 8; k++) copy[Math.floor(rnd() * copy.length)] = Math.floor(rnd() * 256)
  else if (how === 1)
    copy.fill(rnd() < 0.5 ? 0 : 0xff, at, Math.min(copy.length, at + 1 + Math.floor(rnd() * 16)))
  else if (how === 2) return copy.subarray(0, at)
  else {
    const garbage = Buffer.alloc(1 + Math.floor(rnd() * 40))
    for (let k = 0; k < garbage.length; k++) garbage[k] = Math.floor(rnd() * 256)
    return Buffer.concat([copy.subarray(0, at), garbage, copy.subarray(at)])
  }
  return copy
}

/** Damage inside one frame's payload with its CRC made good again, as a buggy producer writes it. */
function reframed(rnd: () => number, frame: Buffer): Buffer {
  const payload = damaged(rnd, frame.subarray(12))
  return frameOf(payload)
}

t.test('random and damaged regions: the same columns, stops, lines and counts from both loops', (t) => {
  const rnd = random(12)
  const failures: string[] = []
  let regions = 0
  for (let round = 0; round < 400; round++) {
    const region = randomRegion(rnd, 1 + Math.floor(rnd() * 30))
    const variants: Buffer[] = [region.buf, damaged(rnd, region.buf)]
    const f = region.frames[Math.floor(rnd() * region.frames.length)]
    if (f !== undefined) {
      const frame = region.buf.subarray(f.start, f.end)
      variants.push(
        Buffer.concat([region.buf.subarray(0, f.start), reframed(rnd, frame), region.buf.subarray(f.end)]),
      )
    }
    for (const buf of variants) {
      regions++
      const start = rnd() < 0.2 ? Math.floor(rnd() * Math.min(32, buf.length)) : 0
      for (const checkCrc of [false, true]) {
        const js = indexed({ checkCrc, implementation: 'js' }, buf, start, buf.length)
        const native = indexed({ checkCrc, implementation: 'native' }, buf, start, buf.length)
        const column = difference(js, native)
        if (column !== undefined)
          failures.push(`round ${round}, crc ${checkCrc}: index column ${column} differs`)
      }
      const index = new EntryIndex({ implementation: 'js' })
      index.index(buf)
      const size = rnd() < 0.5 ? 512 : 64 * 1024
      const js = rendered(new JsonRenderer({ size, implementation: 'js' }), index)
      const native = rendered(new JsonRenderer({ size, implementation: 'native' }), index)
      if (js.bytes !== native.bytes) failures.push(`round ${round}: lines differ`)
      if (js.stops !== native.stops)
        failures.push(`round ${round}: render stops differ (${js.stops} / ${native.stops})`)
      if (js.invalid !== native.invalid)
        failures.push(`round ${round}: invalid fields ${js.invalid} / ${native.invalid}`)
      const selection = Int32Array.from(
        { length: index.entries + 3 },
        () => Math.floor(rnd() * (index.entries + 2)) - 1,
      )
      const jsSelected = rendered(new JsonRenderer({ size, implementation: 'js' }), index, selection)
      const nativeSelected = rendered(new JsonRenderer({ size, implementation: 'native' }), index, selection)
      if (jsSelected.bytes !== nativeSelected.bytes || jsSelected.stops !== nativeSelected.stops)
        failures.push(`round ${round}: selected lines differ`)
    }
  }
  t.same(
    failures.slice(0, 10),
    [],
    `${regions} regions, indexed with and without CRC checks and rendered both ways`,
  )
  t.end()
})

t.test('one renderer alternating with the TypeScript keeps one identity cache', (t) => {
  // A renderer whose native loop hands lines with bytes that are not UTF-8 to
  // the TypeScript (which then caches the identity) renders the same bytes.
  const rnd = random(5)
  const region = randomRegion(rnd, 300)
  const index = new EntryIndex()
  index.index(region.buf)
  const native = rendered(new JsonRenderer({ size: 2048, implementation: 'native' }), index)
  t.equal(
    Buffer.from(native.bytes, 'latin1').toString(),
    region.lines.join(''),
    'the lines decodeFrame + formatJson give',
  )
  t.end()
})

t.test('the native CRC-32 is zlib’s, at every length and alignment', (t) => {
  const addon = requireWireNative()
  const rnd = random(3)
  const buf = Buffer.alloc(4096 + 64)
  for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(rnd() * 256)
  const wrong: number[] = []
  for (let n = 0; n <= 600; n++) {
    const off = n % 61
    if (addon.crc32(buf, off, off + n) !== zlibCrc32(buf.subarray(off, off + n))) wrong.push(n)
  }
  for (let r = 0; r < 200; r++) {
    const n = Math.floor(rnd() * 4096)
    const off = Math.floor(rnd() * 64)
    if (addon.crc32(buf, off, off + n) !== zlibCrc32(buf.subarray(off, off + n))) wrong.push(n)
  }
  t.same(wrong, [], 'lengths 0–600 at odd offsets and 200 random ones up to 4 KiB')
  // A frame with one bit changed fails the native check.
  const frame = frameOf(Buffer.from('\n\u0006\n\u0004"\u0002hi'))
  const index = new EntryIndex({ checkCrc: true, implementation: 'native' })
  t.equal(index.index(frame), frame.length, 'a good frame passes')
  frame[frame.length - 1] ^= 0x04
  index.index(frame)
  t.equal(index.stop, 'corrupt', 'one flipped bit in the payload is caught')
  writeFrameHeader(frame, 0, frame.length - 12, zlibCrc32(frame.subarray(12)))
  t.equal(index.index(frame), frame.length, 'and passes again under its new CRC')
  t.end()
})

t.test('the addon refuses arguments that would make it read or write outside its buffers', (t) => {
  const addon = requireWireNative()
  const state = new Float64Array(6)
  const small = new ArrayBuffer(10)
  t.throws(
    () => addon.index(Buffer.alloc(8), 0, 8, false, 1024, small, 16, small, 16, state),
    /smaller than their capacity/,
  )
  t.throws(
    () =>
      addon.render(
        small,
        16,
        0,
        Buffer.alloc(8),
        Buffer.alloc(8),
        0,
        0,
        undefined,
        Buffer.alloc(8),
        Buffer.alloc(8),
        state,
      ),
    /smaller than its capacity/,
  )
  t.throws(() => addon.crc32(Buffer.alloc(8), 4, 20), /bad range/)
  const index = new EntryIndex({ implementation: 'native' })
  t.throws(
    () =>
      addon.render(
        index.entryBlock,
        index.capacity,
        0,
        Buffer.alloc(8),
        Buffer.alloc(8),
        0,
        5,
        new Int32Array(2),
        Buffer.alloc(8),
        Buffer.alloc(8),
        state,
      ),
    /selection must be an Int32Array covering the range/,
  )
  const rows = new Int32Array(4)
  const keys = [Buffer.from('a')]
  t.throws(
    () =>
      addon.findField(
        index.entryBlock,
        index.capacity,
        0,
        Buffer.alloc(8),
        rows,
        5,
        keys,
        new Int32Array(10),
      ),
    /rows must be an Int32Array of at least n rows/,
  )
  t.throws(
    () =>
      addon.findField(index.entryBlock, index.capacity, 0, Buffer.alloc(8), rows, 4, keys, new Int32Array(7)),
    /out must be an Int32Array of 2n/,
  )
  t.throws(
    () =>
      addon.findField(index.entryBlock, index.capacity, 0, Buffer.alloc(8), rows, 4, [], new Int32Array(8)),
    /keys must be an array of 1 to 64/,
  )
  t.end()
})

t.test('LOGKIT_WIRE chooses the loops, and names what is missing', (t) => {
  const run = (env: Record<string, string>, code: string) =>
    execFileSync(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    }).trim()
  const wire = new URL('../dist/wire/index.js', import.meta.url).href
  const which = `import('${wire}').then((w) => console.log(w.wireImplementation(), new w.EntryIndex().implementation, new w.JsonRenderer().implementation))`
  t.equal(run({ LOGKIT_WIRE: 'js' }, which), 'js js js', 'LOGKIT_WIRE=js: the TypeScript')
  t.equal(run({ LOGKIT_WIRE: 'native' }, which), 'native native native', 'LOGKIT_WIRE=native: the addon')
  const refused = `import('${wire}').then((w) => { try { new w.EntryIndex({ implementation: 'native' }) } catch (e) { console.log(e.code, e.message) } })`
  t.match(
    run({ LOGKIT_WIRE: 'js' }, refused),
    /^LOGKIT_ERR_WIRE_NATIVE .*LOGKIT_WIRE=js/,
    'asking for the addon under LOGKIT_WIRE=js is an error',
  )
  t.end()
})

t.test('worker threads and the main thread use the addon at once and get the same lines', async (t) => {
  const { Worker } = await import('node:worker_threads')
  const wire = new URL('../dist/wire/index.js', import.meta.url).href
  const region = randomRegion(random(21), 400)
  const expected = region.lines.join('')
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    import('${wire}').then((w) => {
      const index = new w.EntryIndex({ checkCrc: true, implementation: 'native' })
      const r = new w.JsonRenderer({ size: 1024, implementation: 'native' })
      const buf = Buffer.from(workerData)
      let out = ''
      for (let round = 0; round < 50; round++) {
        index.index(buf)
        let i = 0
        out = ''
        while (i < index.entries) { i = r.render(index, i); out += r.bytes().toString(); r.reset() }
      }
      parentPort.postMessage(out)
    })`
  const workers = [0, 1, 2].map(
    () =>
      new Promise<string>((resolve, reject) => {
        const worker = new Worker(code, { eval: true, workerData: region.buf })
        worker.once('message', resolve)
        worker.once('error', reject)
      }),
  )
  const index = new EntryIndex({ checkCrc: true, implementation: 'native' })
  let mine = ''
  for (let round = 0; round < 50; round++) {
    index.index(region.buf)
    mine = Buffer.from(
      rendered(new JsonRenderer({ size: 1024, implementation: 'native' }), index).bytes,
      'latin1',
    ).toString()
  }
  t.equal(mine, expected, 'the main thread’s lines')
  const theirs = await Promise.all(workers)
  t.same(
    theirs.map((lines) => lines === expected),
    [true, true, true],
    'each worker’s lines',
  )
})
