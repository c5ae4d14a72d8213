// Micro-benchmark of the collector's byte path (not a test: no thresholds).
// Fills a 1 MiB region with realistic frames from the logger's own writer
// (~170-byte lines: `{ reqId, userId, path }` fields, 'request completed'),
// then reports ns per entry for EntryIndex.index (without and with the CRC
// check the sources make), JsonRenderer.render, both,
// and, on the same frames, what the collector does today: decodeFrame and
// JsonLineWriter. The rendered bytes of both paths are compared first. The
// last line times a plain byte-copy loop, to tell a slow machine (the CPU is
// shared) from a slow path.
//
//   cd packages/core && npx tsc -b && node bench/wire.mjs [rounds]

import { decodeFrame } from '../dist/codec.js'
import { EntryFrameWriter } from '../dist/entry-writer.js'
import { JsonLineWriter } from '../dist/format/json-bytes.js'
import { FRAME_HEADER_SIZE } from '../dist/framing.js'
import { EntryIndex, JsonRenderer } from '../dist/wire/index.js'

const REGION = 1024 * 1024
const rounds = Number(process.argv[2] ?? 200)

function fill() {
  const region = Buffer.alloc(REGION)
  const frames = []
  const w = new EntryFrameWriter('demoapp', 48213, 'web-01')
  const paths = ['/api/orders', '/api/users/me', '/health', '/api/cart/items']
  let at = 0
  let seq = 1
  let ms = 1_763_900_000_000.123
  for (;;) {
    const fields = `{"reqId":"req-${(seq * 7919).toString(36)}","userId":${1000 + (seq % 977)},"path":"${paths[seq % 4]}"}`
    const start = w.entry(ms, 30, 'request completed', 'http', seq, Buffer.alloc(0), undefined, fields, 0)
    const size = w.pos - start
    if (at + size > REGION) break
    w.buf.copy(region, at, start, w.pos)
    frames.push([at, at + size])
    at += size
    seq++
    ms += 0.137
  }
  return { region: region.subarray(0, at), frames, entries: seq - 1 }
}

const { region, frames, entries } = fill()
const index = new EntryIndex({ capacity: entries })
// As the collector's sources index: every frame's CRC-32 checked.
const checked = new EntryIndex({ capacity: entries, checkCrc: true })
const renderer = new JsonRenderer({ size: 4 * REGION })
const writer = new JsonLineWriter(4 * REGION)

function indexOnly() {
  index.index(region)
}
function indexChecked() {
  checked.index(region)
}
function renderOnly() {
  renderer.reset()
  renderer.render(index)
}
function both() {
  index.index(region)
  renderer.reset()
  renderer.render(index)
}
function today() {
  writer.pos = writer.base = 0
  for (const [start, end] of frames) {
    const frame = decodeFrame(region, start + FRAME_HEADER_SIZE, end)
    for (const entry of frame.entries) writer.json(entry)
  }
}

// Same bytes both ways, before anything is timed.
both()
today()
const ours = renderer.bytes()
const theirs = writer.buf.subarray(0, writer.pos)
if (!ours.equals(theirs)) throw new Error('the byte path and decodeFrame + JsonLineWriter differ')
const lineBytes = ours.length / entries

/**
 * ns of CPU (user + system) per entry over `rounds` runs of fn, after a
 * warm-up: CPU rather than wall-clock time, because the machine is shared
 * and a run waits for other processes.
 */
function measure(fn) {
  for (let k = 0; k < 50; k++) fn()
  const t0 = process.cpuUsage()
  for (let k = 0; k < rounds; k++) fn()
  const used = process.cpuUsage(t0)
  return ((used.user + used.system) * 1000) / rounds / entries
}

/** The machine's speed at the moment: a plain byte-copy loop over the region, in ns of CPU per 170 bytes. */
const copyOut = Buffer.alloc(region.length)
function copyLoop() {
  const src = region
  const out = copyOut
  for (let i = 0; i < src.length; i++) out[i] = src[i]
}

const results = {
  index: measure(indexOnly),
  'index, CRCs checked': measure(indexChecked),
  render: measure(renderOnly),
  'index+render': measure(both),
  'decodeFrame+JsonLineWriter': measure(today),
  'byte loop, 170 B (machine)': (measure(copyLoop) * entries * 170) / region.length,
}
console.log(
  `node ${process.version}, ${entries} entries in ${region.length} bytes, ${lineBytes.toFixed(0)}-byte lines, CPU time over ${rounds} rounds`,
)
for (const [name, ns] of Object.entries(results))
  console.log(`${name.padEnd(28)} ${ns.toFixed(1).padStart(7)} ns/entry`)
