// The fifo source's byte path, against real pipes and real producer
// processes: reads become EntryBatch values that a sink with writeEntries
// takes as bytes, at most MAX_BATCH_ENTRIES a batch; a frame cut across two
// reads at any offset arrives once and whole; garbage between frames is
// skipped and counted as FrameDecoder counts it while the frames around it
// arrive; a producer run starting inside a read
// keeps its own sequence; a replayed frame's drops count once; a batch's
// acknowledgement, whole or in part, moves the pipe's checkpoint to the last
// entry the sink finished, never further.

import { execFileSync } from 'node:child_process'
import { closeSync, constants, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import {
  acquireSession,
  CAPABILITY_DROP_REASONS,
  crc32,
  createEntry,
  createPipeline,
  type Diagnostic,
  type EntryBatch,
  FRAME_HEADER_SIZE,
  FrameDecoder,
  type FrameDecoderStats,
  FrameEncoder,
  type Hello,
  type LogEntry,
  MAX_BATCH_ENTRIES,
  type OperatorInput,
  runtimePaths,
  type Sink,
  useSource,
  writeFrameHeader,
} from '@logkit/core'
import { map } from 'rxjs'
import t, { type Test } from 'tap'
import { readCheckpoint } from '../src/checkpoint.js'
import { fifoSource } from '../src/index.js'
import { contiguous, producer, runtimeEnv, waitFor } from './helpers.js'

type Env = { LOGKIT_RUNTIME_DIR: string }

t.setTimeout(120_000)

/**
 * A sink that takes batches (writeEntries) and, for what is not a batch,
 * entries (write); each kept apart, decoded while the write lasts (the bytes
 * are valid until then). With `manual`, each write waits for release().
 */
function recordingSink({ manual = false } = {}) {
  const fromBytes: LogEntry[] = []
  const fromEntries: LogEntry[] = []
  const batchSizes: number[] = []
  /** The entries of each write in hand, in order; `released` of them are done. */
  const writes: LogEntry[][] = []
  let released = 0
  const waiting: (() => void)[] = []
  const hold = async (entries: LogEntry[]) => {
    writes.push(entries)
    if (manual) await new Promise<void>((resolve) => waiting.push(resolve))
  }
  const sink: Sink = {
    async write(batch) {
      const entries = batch.filter((e) => e.source !== 'logkit')
      if (entries.length === 0) return
      fromEntries.push(...entries)
      await hold(entries)
    },
    async writeEntries(batches: readonly EntryBatch[]) {
      const entries: LogEntry[] = []
      for (const batch of batches) {
        batchSizes.push(batch.length)
        entries.push(...batch.entries())
      }
      fromBytes.push(...entries)
      await hold(entries)
    },
  }
  return {
    sink,
    fromBytes,
    fromEntries,
    batchSizes,
    writes,
    get released() {
      return released
    },
    /** Lets the oldest write in hand finish. */
    release() {
      released++
      waiting.shift()?.()
    },
  }
}

function collect(
  env: Env,
  app: string,
  rec: ReturnType<typeof recordingSink>,
  options: { operators?: OperatorInput[]; maxBatch?: number } = {},
) {
  const diagnostics: Diagnostic[] = []
  const pipeline = createPipeline({
    app,
    sources: [useSource(fifoSource, { env, scanMs: 30 })],
    operators: options.operators,
    sinks: [{ sink: rec.sink, queue: { capacity: 100_000, maxBatch: options.maxBatch ?? 1000 } }],
    onDiagnostic: (d) => diagnostics.push(d),
  })
  return { pipeline, diagnostics }
}

/** A pipe of `app` written by this test: made, then opened for writing once the collector reads it. */
async function testPipe(env: Env, app: string, source: string) {
  const path = join(runtimePaths(app, env).appDir, `${source}.${process.pid}.fifo`)
  execFileSync('mkfifo', ['-m', '600', path])
  const fd = await waitFor(() => {
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
    } catch {
      return undefined
    }
  }, `the collector opening ${source}'s pipe`)
  return { path, fd, checkpointPath: `${path}.ack` }
}

const encoder = new FrameEncoder()

function helloOf(app: string, source: string, startTime = 1n): Hello {
  return {
    app,
    source,
    pid: process.pid,
    hostname: 'h',
    protocol: 1,
    transport: 'test',
    capabilities: [],
    startTime,
  }
}

const helloFrame = (hello: Hello) => Buffer.from(encoder.hello(hello))

/** A frame of one entry that says who logged it, as logkit's logger writes them. */
function entryFrame(app: string, source: string, seq: number, msg = `entry ${seq}`): Buffer {
  return Buffer.from(
    encoder.entry({
      ...createEntry({ msg, seq, app, source, pid: process.pid, hostname: 'h' }),
      fields: `{"seq":${seq},"pad":"${'é'.repeat(seq % 7)}"}`,
    }),
  )
}

const sum = (diagnostics: readonly Diagnostic[], key: keyof FrameDecoderStats) =>
  diagnostics
    .filter((d) => d.code === 'frame_corrupt')
    .reduce((n, d) => n + ((d.details?.[key] as number | undefined) ?? 0), 0)

t.test(
  'the source emits EntryBatch values: a sink with writeEntries gets every entry as bytes',
  async (t) => {
    const env = runtimeEnv()
    const rec = recordingSink()
    const c = collect(env, 'bytes', rec)
    await c.pipeline.start()
    const p = producer({ app: 'bytes', source: 'worker' }, env)
    t.teardown(() => p.kill())
    await p.ready()
    await p.command('log 5000 500 1 0')
    await p.command('close')
    await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the producer reaped')
    await c.pipeline.close()

    const got = rec.fromBytes.filter((e) => e.pid === p.pid)
    t.ok(
      contiguous(
        got.map((e) => e.seq),
        1,
        5000,
      ),
      'all 5000 came through writeEntries, in order, once',
    )
    t.ok(
      got.every((e, i) => e.msg === `entry ${i + 1}` && e.fields.get('i') === i + 1 && e.source === 'worker'),
      'each one whole: message, fields and source',
    )
    t.same(
      rec.fromEntries.filter((e) => e.pid === p.pid),
      [],
      'none of them had to be decoded for write()',
    )
    t.ok(
      rec.batchSizes.some((n) => n > 1),
      'a batch holds the entries of a read, not one entry',
    )
  },
)

/**
 * A pipe of `app` made and filled before the collector starts, with a hello
 * and `count` small entries (under 64 KiB in all): the collector's first read
 * takes all of it. Returns the pipe's fd (open for reading and writing).
 */
function filledPipe(t: Test, env: Env, app: string, count: number) {
  acquireSession(app, env).release() // makes the app directory
  const path = join(runtimePaths(app, env).appDir, `tiny.${process.pid}.fifo`)
  execFileSync('mkfifo', ['-m', '600', path])
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK)
  const tiny = (seq: number) =>
    Buffer.from(
      encoder.entry({
        ...createEntry({ seq, app: 'b', source: 'tiny', pid: process.pid, hostname: 'h' }),
        fields: '',
      }),
    )
  const bytes = Buffer.concat([
    helloFrame(helloOf(app, 'tiny')),
    ...Array.from({ length: count }, (_, i) => tiny(i + 1)),
  ])
  t.ok(bytes.length < 64 * 1024, `all of it fits the pipe (${bytes.length} bytes)`)
  t.equal(writeSync(fd, bytes), bytes.length, 'and is in it')
  return { fd, checkpointPath: `${path}.ack` }
}

t.test(
  'a read of more than MAX_BATCH_ENTRIES entries goes out as batches of at most that many',
  async (t) => {
    const env = runtimeEnv()
    const rec = recordingSink()
    const pipe = filledPipe(t, env, 'many', 1300)
    const c = collect(env, 'many', rec)
    await c.pipeline.start()
    await waitFor(() => rec.fromBytes.length === 1300, 'the 1300 entries')
    closeSync(pipe.fd)
    await c.pipeline.close()
    t.ok(
      contiguous(
        rec.fromBytes.map((e) => e.seq),
        1,
        1300,
      ),
      'all of them, in order, once',
    )
    t.ok(
      rec.batchSizes.every((n) => n <= MAX_BATCH_ENTRIES),
      `no batch holds more than ${MAX_BATCH_ENTRIES} (${rec.batchSizes.join(', ')})`,
    )
    t.ok(rec.batchSizes.includes(MAX_BATCH_ENTRIES), 'the read was cut at MAX_BATCH_ENTRIES')
  },
)

t.test('a frame cut across two reads, at every offset of it, arrives once and whole', async (t) => {
  const env = runtimeEnv()
  const rec = recordingSink()
  const c = collect(env, 'split', rec)
  await c.pipeline.start()
  const pipe = await testPipe(env, 'split', 'cut')
  writeSync(pipe.fd, helloFrame(helloOf('split', 'cut')))
  const size = entryFrame('split', 'cut', 2).length
  // For every offset k: frame A and the first k bytes of frame B in one write,
  // which one read takes whole (a write under PIPE_BUF is atomic); once A has
  // arrived, that read is done, and the rest of B goes in the next write.
  let seq = 0
  const arrived = (s: number) => rec.fromBytes.some((e) => e.seq === s)
  for (let k = 0; k <= size; k++) {
    const a = entryFrame('split', 'cut', ++seq)
    const b = entryFrame('split', 'cut', ++seq, `cut at ${k}`)
    writeSync(pipe.fd, Buffer.concat([a, b.subarray(0, k)]))
    await waitFor(() => arrived(seq - 1), `entry ${seq - 1}`)
    if (k < b.length) writeSync(pipe.fd, b.subarray(k))
  }
  await waitFor(() => arrived(seq), 'the last entry')
  closeSync(pipe.fd)
  await c.pipeline.close()

  const got = rec.fromBytes.filter((e) => e.source === 'cut')
  t.ok(
    contiguous(
      got.map((e) => e.seq),
      1,
      seq,
    ),
    `all ${seq} entries arrived, in order, once`,
  )
  t.ok(
    got.every(
      (e) =>
        e.msg === (e.seq % 2 === 0 ? `cut at ${e.seq / 2 - 1}` : `entry ${e.seq}`) &&
        e.fields.get('seq') === e.seq &&
        e.fields.get('pad') === 'é'.repeat(e.seq % 7) &&
        e.app === 'split' &&
        e.hostname === 'h',
    ),
    'each one whole: message, fields and identity',
  )
  t.same(
    c.diagnostics.filter((d) => d.code === 'frame_corrupt' || d.code === 'seq_gap'),
    [],
    'nothing skipped, nothing missing',
  )
})

t.test(
  'garbage between frames is skipped and counted as FrameDecoder counts it; the frames around it arrive',
  async (t) => {
    const env = runtimeEnv()
    const rec = recordingSink()
    const c = collect(env, 'junk', rec)
    await c.pipeline.start()
    const pipe = await testPipe(env, 'junk', 'noisy')
    const frames = (from: number, to: number) =>
      Buffer.concat(Array.from({ length: to - from + 1 }, (_, i) => entryFrame('junk', 'noisy', from + i)))
    // A stray "LK" and a false header whose length swallows the frames after it until its CRC fails.
    const falseHeader = Buffer.alloc(FRAME_HEADER_SIZE)
    writeFrameHeader(falseHeader, 0, 200, 0xdeadbeef)
    const damaged = entryFrame('junk', 'noisy', 11)
    damaged[damaged.length - 3] = (damaged[damaged.length - 3] as number) ^ 0xff
    const refused = Buffer.alloc(FRAME_HEADER_SIZE + 3)
    refused.set([0x0a, 0x7f, 0x08], FRAME_HEADER_SIZE)
    writeFrameHeader(refused, 0, 3, crc32(refused, FRAME_HEADER_SIZE))
    const oversized = Buffer.alloc(FRAME_HEADER_SIZE)
    writeFrameHeader(oversized, 0, 2 * 1024 * 1024, 0)
    const writes = [
      helloFrame(helloOf('junk', 'noisy')),
      frames(1, 5),
      Buffer.from('not a frame at all, LK, nor this'),
      falseHeader,
      frames(6, 10),
      damaged,
      refused,
      oversized,
      Buffer.from('tail junk'),
      frames(12, 15),
    ]
    const oracle = new FrameDecoder({ onFrame: () => {} })
    for (const bytes of writes) {
      oracle.push(bytes)
      writeSync(pipe.fd, bytes)
    }
    await waitFor(() => rec.fromBytes.some((e) => e.seq === 15), 'the last good frame')
    closeSync(pipe.fd)
    await waitFor(
      () => sum(c.diagnostics, 'skippedBytes') === oracle.stats.skippedBytes,
      'the skips reported',
    )
    await c.pipeline.close()

    t.same(
      rec.fromBytes.filter((e) => e.source === 'noisy').map((e) => e.seq),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15],
      'every good frame arrived, in order, as bytes',
    )
    t.ok(
      oracle.stats.corrupt >= 2 && oracle.stats.malformed === 1 && oracle.stats.oversized === 1,
      'the oracle saw every kind',
    )
    for (const key of ['skippedBytes', 'corrupt', 'malformed', 'oversized', 'truncatedBytes'] as const) {
      t.equal(sum(c.diagnostics, key), oracle.stats[key], `${key}: as FrameDecoder counts them`)
    }
    t.match(
      c.diagnostics.filter((d) => d.code === 'seq_gap'),
      [{ count: 1, details: { after: 10, before: 12 } }],
      'the entry lost in the damaged frame shows as a gap of one',
    )
    t.match(
      c.diagnostics.filter((d) => d.code === 'frame_too_large'),
      [{ count: 1, message: /raise the fifo source's maxFrameSize/ }],
      'the frame over maxFrameSize is named as such, with what to raise',
    )
  },
)

t.test('a producer run that starts inside a read keeps its own sequence and checkpoint', async (t) => {
  const env = runtimeEnv()
  const rec = recordingSink()
  const c = collect(env, 'runs', rec)
  await c.pipeline.start()
  const pipe = await testPipe(env, 'runs', 'again')
  // One write, one read: the first run's three entries, the second run's hello and three entries.
  writeSync(
    pipe.fd,
    Buffer.concat([
      helloFrame(helloOf('runs', 'again', 1n)),
      entryFrame('runs', 'again', 1, 'first run 1'),
      entryFrame('runs', 'again', 2, 'first run 2'),
      entryFrame('runs', 'again', 3, 'first run 3'),
      helloFrame(helloOf('runs', 'again', 2n)),
      entryFrame('runs', 'again', 1, 'second run 1'),
      entryFrame('runs', 'again', 2, 'second run 2'),
      entryFrame('runs', 'again', 3, 'second run 3'),
    ]),
  )
  await waitFor(() => rec.fromBytes.length === 6, 'both runs')
  const checkpoint = await waitFor(() => {
    const cp = readCheckpoint(pipe.checkpointPath)
    return cp?.hello.startTime === 2n && cp.lastSeq === 3 ? cp : undefined
  }, "the second run's checkpoint")
  closeSync(pipe.fd)
  await c.pipeline.close()
  t.same(
    rec.fromBytes.map((e) => e.msg),
    ['first run 1', 'first run 2', 'first run 3', 'second run 1', 'second run 2', 'second run 3'],
    'all six, in order: the second run is not taken for duplicates of the first',
  )
  t.same(
    c.diagnostics.filter((d) => d.code === 'seq_gap' || d.code === 'dropped'),
    [],
    'no gap, no drop',
  )
  t.match(checkpoint, { lastSeq: 3, hello: { startTime: 2n } }, 'the checkpoint follows the second run')
})

t.test('a replayed frame carries its drop announcement again: the drops are counted once', async (t) => {
  const env = runtimeEnv()
  const rec = recordingSink()
  const c = collect(env, 'replay', rec)
  await c.pipeline.start()
  const pipe = await testPipe(env, 'replay', 'again')
  const hello = helloFrame({ ...helloOf('replay', 'again'), capabilities: [CAPABILITY_DROP_REASONS] })
  const dropping = Buffer.from(
    encoder.entry(
      {
        ...createEntry({
          msg: 'after 3 dropped',
          seq: 5,
          app: 'replay',
          source: 'again',
          pid: process.pid,
          hostname: 'h',
        }),
        fields: '{}',
      },
      3,
      { droppedTooLarge: 1, droppedUnserializable: 1 },
    ),
  )
  // What a producer sends again after a reconnect: its hello, then frames already delivered.
  writeSync(pipe.fd, Buffer.concat([hello, entryFrame('replay', 'again', 1), dropping]))
  await waitFor(() => rec.fromBytes.length === 2, 'the first two')
  writeSync(
    pipe.fd,
    Buffer.concat([hello, entryFrame('replay', 'again', 1), dropping, entryFrame('replay', 'again', 6)]),
  )
  await waitFor(() => rec.fromBytes.length === 3, 'the one after the replay')
  closeSync(pipe.fd)
  await c.pipeline.close()
  t.same(
    rec.fromBytes.map((e) => e.seq),
    [1, 5, 6],
    'each entry once: the replayed ones are duplicates',
  )
  t.same(
    c.diagnostics.filter((d) => d.code === 'dropped').map((d) => [d.count, d.details?.['reason']]),
    [
      [1, 'entry_too_large'],
      [1, 'entry_unserializable'],
      [1, 'producer_buffer_full'],
    ],
    'the 3 dropped are reported once, each with its reason',
  )
  t.same(
    c.diagnostics.filter((d) => d.code === 'seq_gap'),
    [],
    'and are no gap',
  )
})

t.test('entries that do not say who logged them are tagged from the hello, decoded', async (t) => {
  const env = runtimeEnv()
  const rec = recordingSink()
  const c = collect(env, 'tags', rec)
  await c.pipeline.start()
  const pipe = await testPipe(env, 'tags', 'bare')
  const bare = (seq: number) =>
    Buffer.from(encoder.entry({ ...createEntry({ msg: `bare ${seq}`, seq }), fields: '{}' }))
  writeSync(pipe.fd, helloFrame(helloOf('tags', 'bare')))
  writeSync(pipe.fd, Buffer.concat([bare(1), bare(2)]))
  await waitFor(() => rec.fromEntries.length === 2, 'the bare entries')
  writeSync(pipe.fd, entryFrame('tags', 'bare', 3))
  await waitFor(() => rec.fromBytes.length === 1, 'the entry that says who logged it')
  closeSync(pipe.fd)
  await c.pipeline.close()
  t.match(
    rec.fromEntries,
    [
      { msg: 'bare 1', app: 'tags', source: 'bare', pid: process.pid, hostname: 'h' },
      { msg: 'bare 2', app: 'tags', source: 'bare', pid: process.pid, hostname: 'h' },
    ],
    'who logged them comes from the hello',
  )
  t.match(rec.fromBytes, [{ msg: 'entry 3', seq: 3 }], 'an entry that says it stays bytes')
})

/**
 * Lets the writes of `rec` finish one by one, up to the entry with seq
 * `total`. Before each, the checkpoint must still be at the end of the write
 * before it (the writes that were acknowledged early are returned); after
 * it, the checkpoint must come to the last seq of that write.
 */
async function releaseAndCheck(
  t: Test,
  rec: ReturnType<typeof recordingSink>,
  checkpointPath: string,
  total: number,
): Promise<number[]> {
  const early: number[] = []
  let done = 0
  while (done < total) {
    const w = rec.released
    const entries = await waitFor(() => rec.writes[w], `write ${w + 1}`)
    // While this write is in the sink's hands, nothing of it is acknowledged.
    if ((readCheckpoint(checkpointPath)?.lastSeq ?? 0) !== done) early.push(w + 1)
    rec.release()
    const last = entries.at(-1)?.seq as number
    await waitFor(
      () => readCheckpoint(checkpointPath)?.lastSeq === last,
      `the checkpoint at ${last}, the end of write ${w + 1}`,
    )
    done = last
  }
  t.comment(`${rec.released} writes`)
  return early
}

t.test(
  "a batch's acknowledgement moves the checkpoint to its last entry's seq, never before the sink finished",
  async (t) => {
    const env = runtimeEnv()
    const rec = recordingSink({ manual: true })
    const c = collect(env, 'acks', rec, { maxBatch: 300 })
    await c.pipeline.start()
    const p = producer({ app: 'acks', source: 'acked' }, env)
    t.teardown(() => p.kill())
    await p.ready()
    await p.command('log 3000 3000 1 0')
    const checkpointPath = join(runtimePaths('acks', env).appDir, `acked.${p.pid}.fifo.ack`)
    const early = await releaseAndCheck(t, rec, checkpointPath, 3000)
    t.ok(
      rec.released > 1,
      "the entries came in several writes, each moving the checkpoint to its last entry's seq",
    )
    t.same(early, [], 'no write was acknowledged before the sink finished it')
    t.ok(
      rec.writes.every((w) => w.length > 0 && w.every((e) => e.pid === p.pid)),
      'every write held entries of the producer',
    )
    t.same(rec.fromEntries, [], 'all of them as bytes')
    await p.command('close')
    await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the producer reaped')
    const closing = c.pipeline.close()
    while (rec.released < rec.writes.length) rec.release()
    await closing
  },
)

t.test(
  'parts of the later batch of a read cut at MAX_BATCH_ENTRIES move the checkpoint to their last seq',
  async (t) => {
    const env = runtimeEnv()
    const rec = recordingSink({ manual: true })
    const pipe = filledPipe(t, env, 'later', 1300)
    // Decoded in front of an operator that takes entries, written 100 at a time.
    const c = collect(env, 'later', rec, { operators: [map((e: LogEntry) => e)], maxBatch: 100 })
    await c.pipeline.start()
    const early = await releaseAndCheck(t, rec, pipe.checkpointPath, 1300)
    t.same(early, [], 'no part was acknowledged before the sink finished it')
    t.ok(rec.released >= 13, "each write of at most 100 moved the checkpoint to its last entry's seq")
    closeSync(pipe.fd)
    const closing = c.pipeline.close()
    while (rec.released < rec.writes.length) rec.release()
    await closing
  },
)

t.test(
  'batches taken apart by an operator: each part the sink finishes moves the checkpoint to its last seq',
  async (t) => {
    const env = runtimeEnv()
    const rec = recordingSink({ manual: true })
    // An operator that takes entries: the runtime decodes each batch in front of it, and the
    // sink's writes of 7 entries end in the middle of batches.
    const c = collect(env, 'parts', rec, { operators: [map((e: LogEntry) => e)], maxBatch: 7 })
    await c.pipeline.start()
    const p = producer({ app: 'parts', source: 'parted' }, env)
    t.teardown(() => p.kill())
    await p.ready()
    await p.command('log 700 700 1 0')
    const checkpointPath = join(runtimePaths('parts', env).appDir, `parted.${p.pid}.fifo.ack`)
    const early = await releaseAndCheck(t, rec, checkpointPath, 700)
    t.ok(
      rec.released >= 100 && rec.writes.every((w) => w.length <= 7),
      "at least 100 writes of at most 7 entries, each moving the checkpoint to its last entry's seq",
    )
    t.same(early, [], 'no part was acknowledged before the sink finished it')
    t.ok(
      contiguous(
        rec.fromEntries.map((e) => e.seq),
        1,
        700,
      ),
      'every entry once, in order',
    )
    await p.command('close')
    await waitFor(() => c.diagnostics.some((d) => d.code === 'producer_exited'), 'the producer reaped')
    const closing = c.pipeline.close()
    while (rec.released < rec.writes.length) rec.release()
    await closing
  },
)
