// The producer's buffer and frame peeking, on their own: the bound and both
// policies, writes in order, what a reconnect replays, and what the bytes of a
// frame say without decoding it.

import { createEntry, FrameEncoder } from '@logkit/core'
import { frameKind, frameSize, peekBatch } from '@logkit/core/producer'
import t from 'tap'
import { FrameQueue } from '../src/frame-queue.js'

const encoder = new FrameEncoder()
/** A single-entry frame with seq `seq`, copied (the encoder reuses its buffer); same size for seq < 128. */
const frame = (seq: number, msg = `entry ${String(seq).padStart(4, '0')}`) =>
  Buffer.from(encoder.entry({ ...createEntry({ msg, seq, app: 'q', source: 's' }), fields: '{}' }))

/** The seqs of the frames in `bytes`. */
function seqs(bytes: Buffer): number[] {
  const out: number[] = []
  for (let at = 0; at < bytes.length; at += frameSize(bytes, at)) out.push(peekBatch(bytes, at).lastSeq)
  return out
}

/** Takes and writes everything waiting; returns the seqs in write order. */
function drain(q: FrameQueue): number[] {
  const out: number[] = []
  for (let data = q.take(); data !== undefined; data = q.take()) {
    out.push(...seqs(data))
    q.written()
  }
  return out
}

t.test('frames leave in order, a chunk at a time; marks tell when what came before has left', (t) => {
  const q = new FrameQueue({ capacityBytes: 1 << 20, policy: 'drop_newest', chunkBytes: 1024 })
  for (let i = 1; i <= 50; i++) t.ok(q.push(frame(i)) || true)
  const mark = q.mark()
  q.push(frame(51))
  t.notOk(q.isPast(mark), 'nothing has left yet')
  const first = q.take()
  t.ok(first !== undefined && first.length <= 1024, 'a write is at most one chunk')
  t.equal(q.take(), undefined, 'one write in flight at a time')
  q.written()
  t.same(drain(q).length + seqs(first as Buffer).length, 51, 'every frame is taken once')
  t.ok(q.isPast(mark), 'once written, the mark is passed')
  t.equal(q.pendingBytes, 0, 'nothing waits')
  t.end()
})

t.test('drop_newest: past the bound new frames are refused and counted', (t) => {
  const f = frame(1)
  const q = new FrameQueue({ capacityBytes: f.length * 10, policy: 'drop_newest' })
  let accepted = 0
  for (let i = 1; i <= 15; i++) if (q.push(frame(i))) accepted++
  t.equal(accepted, 10, 'as many as fit')
  t.equal(q.droppedFrames, 5, 'the rest refused and counted')
  t.ok(q.pendingBytes <= f.length * 10, 'the bound holds')
  t.same(drain(q), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'the oldest kept')
  t.notOk(q.push(Buffer.alloc(f.length * 11)), 'a frame larger than the whole buffer is refused')
  const full = new FrameQueue({ capacityBytes: f.length * 2, policy: 'drop_oldest' })
  full.push(frame(1))
  full.push(frame(2))
  t.notOk(full.push(frame(3), true), 'an optional frame (a heartbeat) does not go into a full buffer')
  t.equal(full.evictedFrames + full.droppedFrames, 0, 'it evicted nothing and is not counted as a drop')
  t.end()
})

t.test('drop_oldest: the oldest waiting frames make room, never the one being written', (t) => {
  const f = frame(1)
  const q = new FrameQueue({ capacityBytes: f.length * 10, policy: 'drop_oldest', chunkBytes: f.length * 4 })
  for (let i = 1; i <= 4; i++) q.push(frame(i))
  const inflight = q.take() // frames 1–4, one chunk
  for (let i = 5; i <= 16; i++) t.ok(q.push(frame(i)), `frame ${i} accepted`)
  q.written()
  t.same(seqs(inflight as Buffer), [1, 2, 3, 4], 'the chunk in flight was left alone')
  t.same(drain(q), [11, 12, 13, 14, 15, 16], 'then the newest, the oldest waiting ones evicted')
  t.equal(q.evictedFrames, 6, 'six frames evicted')
  t.equal(q.evictedEntries, 6, 'with one entry each, never written')
  const tight = new FrameQueue({
    capacityBytes: f.length * 2,
    policy: 'drop_oldest',
    chunkBytes: f.length * 2,
  })
  tight.push(frame(1))
  tight.push(frame(2))
  tight.take()
  t.notOk(tight.push(frame(3)), 'when only the chunk in flight holds frames, the new one is refused')
  t.equal(tight.droppedFrames, 1, 'and counted')
  t.end()
})

t.test('a reconnect replays at least a pipe’s worth of written frames, then what waits', (t) => {
  const q = new FrameQueue({
    capacityBytes: 1 << 20,
    policy: 'drop_newest',
    chunkBytes: 1024,
    replayBytes: 2048,
  })
  for (let i = 1; i <= 200; i++) q.push(frame(i))
  const written = drain(q)
  t.equal(written.length, 200, 'all written')
  t.ok(q.retainedBytes >= 2048, 'at least replayBytes are kept')
  t.ok(q.retainedBytes < 2048 + 2 * 1024, 'and not much more: older chunks are freed')
  for (let i = 201; i <= 210; i++) q.push(frame(i))
  q.take() // in flight when the pipe breaks
  q.failed()
  q.rewind()
  const replay = drain(q)
  t.equal(replay.at(-1), 210, 'everything waiting goes on the new connection')
  t.same(
    replay,
    Array.from({ length: replay.length }, (_, i) => (replay[0] as number) + i),
    'kept frames first, in order, with no hole',
  )
  t.ok((replay[0] as number) < 200, 'including frames written before the break')
  t.end()
})

t.test('a frame larger than a chunk gets a chunk of its own', (t) => {
  const q = new FrameQueue({ capacityBytes: 1 << 20, policy: 'drop_newest', chunkBytes: 256 })
  q.push(frame(1))
  q.push(frame(2, 'x'.repeat(1000)))
  q.push(frame(3))
  t.same(drain(q), [1, 2, 3], 'in order')
  t.end()
})

t.test('peeking at a frame: its kind, its entries and its last seq', (t) => {
  const entries = [1, 2, 3].map((seq) => ({ ...createEntry({ msg: `m${seq}`, seq }), fields: '{"a":1}' }))
  const batch = Buffer.from(encoder.batch(entries, 4))
  t.equal(frameKind(batch), 'batch', 'a batch')
  t.same(peekBatch(batch), { entries: 3, lastSeq: 3 }, 'three entries, the last with seq 3')
  const noSeq = Buffer.from(encoder.batch([{ ...createEntry({ msg: 'x' }), fields: '{}' }]))
  t.same(peekBatch(noSeq), { entries: 1, lastSeq: 0 }, 'an entry without seq')
  const hello = encoder.hello({
    app: 'a',
    source: 's',
    pid: 1,
    hostname: 'h',
    protocol: 1,
    transport: 'fifo',
    capabilities: [],
    startTime: 1n,
  })
  t.equal(frameKind(hello), 'hello', 'a hello')
  t.equal(frameKind(encoder.heartbeat({ now: 1n, next: 2n, lastSeq: 3 })), 'heartbeat', 'a heartbeat')
  t.equal(frameKind(encoder.goodbye({ lastSeq: 1, dropped: 0 })), 'goodbye', 'a goodbye')
  t.same(peekBatch(hello), { entries: 0, lastSeq: 0 }, 'no entries in a hello')
  t.equal(frameKind(new Uint8Array(5)), 'unknown', 'too short to be a frame')
  const odd = Buffer.from(batch)
  odd[12] = 0x7a
  t.equal(frameKind(odd), 'unknown', 'a body this version does not know')
  t.same(
    peekBatch(batch.subarray(0, 20)),
    { entries: 0, lastSeq: 0 },
    'a cut frame yields nothing, no exception',
  )
  t.end()
})
