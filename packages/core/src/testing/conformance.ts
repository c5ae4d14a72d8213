// The compliance suite every sink package runs against its own sink: what the
// runtime relies on. A sink under test is created fresh for each check, and
// `read` returns what it has made durable (parsed lines, received requests…),
// as entries' messages in order.

import type { Test } from 'tap'
import { createEntry } from '../entry.js'
import type { Sink } from '../sink.js'

export interface SinkUnderTest {
  readonly sink: Sink
  /** The messages of the entries the sink has made durable, in the order written. */
  read(): Promise<string[]>
}

export interface SinkConformanceOptions {
  readonly name: string
  create(): Promise<SinkUnderTest>
}

function entries(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) =>
    createEntry({
      msg: `${prefix} ${i + 1}`,
      seq: i + 1,
      app: 'conformance',
      source: 'suite',
      fields: { i },
    }),
  )
}

export async function sinkConformance(t: Test, { name, create }: SinkConformanceOptions): Promise<void> {
  await t.test(`${name}: written batches are durable, whole and in order after flush`, async (t) => {
    const { sink, read } = await create()
    await sink.write(entries('a', 3))
    await sink.write(entries('b', 2))
    await sink.flush?.()
    t.same(await read(), ['a 1', 'a 2', 'a 3', 'b 1', 'b 2'], 'every entry of every batch, in order')
    await sink.close?.()
  })

  await t.test(`${name}: close() makes everything written durable`, async (t) => {
    const { sink, read } = await create()
    await sink.write(entries('c', 50))
    await sink.close?.()
    const got = await read()
    t.equal(got.length, 50, 'all 50 entries are there after close')
    t.equal(got[49], 'c 50', 'the last one included')
  })

  await t.test(`${name}: unicode, quotes and newlines in messages survive`, async (t) => {
    const { sink, read } = await create()
    const msg = 'héllo "wörld" ✓ 🎉\nsecond line'
    await sink.write([createEntry({ msg, app: 'conformance', source: 'suite' })])
    await sink.close?.()
    t.same(await read(), [msg], 'the message comes back exactly')
  })
}
