// The pool behind the fifo byte path: an index sized by the chunk it will
// index, never a large one for a small chunk (a batch in flight holds its
// index); join buffers reused; a chunk given back only once its reader and
// every batch of it are done.

import { createEntry, FrameEncoder } from '@logkit/core'
import t from 'tap'
import { ChunkPool, JOIN_BUFFER_BYTES, PipeChunk } from '../src/chunk-pool.js'

const capacity = (pool: ChunkPool, bytes: number) => pool.takeIndex(bytes).valid.length

t.test(
  'an index is sized by the bytes it indexes; a pooled one is reused only for a chunk of its size',
  (t) => {
    const pool = new ChunkPool(1024 * 1024)
    t.equal(capacity(pool, 100), 16, 'a one-entry read: the smallest index')
    t.equal(capacity(pool, 64 * 1024), 512, 'a full pipe read: a row per 128 bytes')
    t.equal(capacity(pool, 1024 * 1024), 1024, 'a large frame: no more than 1024 rows to begin with')

    const big = pool.takeIndex(64 * 1024)
    pool.give(big, undefined)
    const small = pool.takeIndex(100)
    t.not(small, big, 'a small read does not take the index of a large one')
    t.equal(small.valid.length, 16, 'it gets one of its size')
    t.equal(pool.takeIndex(40 * 1024), big, 'a read of a similar size does')

    // An index grown by a chunk of small entries goes back under its new size.
    const encoder = new FrameEncoder()
    const tiny = Buffer.concat(
      Array.from({ length: 40 }, (_, i) =>
        Buffer.from(encoder.entry({ ...createEntry({ seq: i + 1 }), fields: '{}' })),
      ),
    )
    const grown = pool.takeIndex(tiny.length)
    const before = grown.valid.length
    grown.index(tiny)
    t.ok(
      grown.valid.length > before && grown.entries === 40,
      `it grew to hold the 40 entries (${before} → ${grown.valid.length} rows)`,
    )
    pool.give(grown, undefined)
    t.equal(grown.buf.length, 0, 'an index given back keeps no bytes alive')
    t.equal(pool.takeIndex(grown.valid.length * 128), grown, 'and serves a chunk of its new size')
    t.end()
  },
)

t.test('join buffers come back for reuse; larger ones are made for the one use', (t) => {
  const pool = new ChunkPool(1024 * 1024)
  const buffer = pool.takeBuffer(70_000)
  t.equal(buffer.length, JOIN_BUFFER_BYTES, 'a read and its carried tail: a pooled buffer')
  pool.give(pool.takeIndex(70_000), buffer)
  t.equal(pool.takeBuffer(10), buffer, 'given back, it is taken again')
  const large = pool.takeBuffer(JOIN_BUFFER_BYTES + 1)
  t.equal(large.length, JOIN_BUFFER_BYTES + 1, 'a larger one is made to measure')
  pool.give(pool.takeIndex(10), large)
  t.not(pool.takeBuffer(10), large, 'and not kept')
  t.end()
})

t.test('a chunk goes back once its reader and each of its batches are done, not before', (t) => {
  const pool = new ChunkPool(1024 * 1024)
  const index = pool.takeIndex(1000)
  const chunk = new PipeChunk(index, undefined, pool)
  chunk.retain()
  chunk.retain()
  chunk.release() // the reader
  chunk.release() // one batch
  t.not(pool.takeIndex(1000), index, 'while a batch holds it, its index is not handed out again')
  chunk.release() // the other batch
  t.equal(pool.takeIndex(1000), index, 'then it is')
  t.end()
})
