// The byte path: writeEntries(batches) with entries that are still bytes
// (real frames, indexed) writes exactly the file bytes write() writes for
// the same entries decoded — formatJson's lines — for every option, with the
// same rotation cut points, the same reports and the same history, and keeps
// nothing of the batches' bytes once it has resolved.

import { execFileSync } from 'node:child_process'
import { readFileSync, truncateSync } from 'node:fs'
import { basename, join } from 'node:path'
import { createEntry, type Diagnostic, Fields, formatJson, type LogEntry } from '@logkit/core'
import { EntryBatch } from '@logkit/core/wire'
import t, { type Test } from 'tap'
import { createFileSink, type FileSinkOptions, historyPathOf } from '../src/index.js'
import { batchOf, indexOf, jsonLines, random, randomEntries, regionOf } from './frames.js'
import { diagnostics, entries, linesOf, manualClock, rotatedFiles } from './helpers.js'

/** The decoded entries of a write's batches, as the runtime gives them to write(). */
function decoded(batches: readonly EntryBatch[]): LogEntry[] {
  return batches.flatMap((b) => b.entries())
}

/** Equal texts; on a difference, says at which line (not the whole text). */
function sameText(t: Test, got: string, want: string, message: string): void {
  if (got === want) {
    t.pass(message)
    return
  }
  const g = got.split('\n')
  const w = want.split('\n')
  const at = g.findIndex((line, n) => line !== w[n])
  // As ASCII JSON: raw controls and line separators (U+2028) would break TAP's YAML.
  const shown = (line: string | undefined) =>
    JSON.stringify(line?.slice(0, 300))?.replace(
      /[^ -~]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  t.fail(message, { diagnostic: true, line: at, written: shown(g[at]), expected: shown(w[at]) })
}

/** Every file a sink at `path` left (rotated ones oldest first, then the live one): name and text. */
function filesOf(path: string): [string, string][] {
  return [...rotatedFiles(path), path].map((f) => [basename(f), readFileSync(f, 'utf8')])
}

/** Between two writes: something done to the sink's file or clock (the same for both sinks). */
type Between = (path: string, clock: ReturnType<typeof manualClock>) => void

interface Outcome {
  files: [string, string][]
  history: string | undefined
  entries: number
  bytes: number
  dropped: number
  reports: Pick<Diagnostic, 'code' | 'count'>[]
}

/** Writes `steps` to a new sink in `dir`, each write through write() (decoded) or writeEntries(). */
async function run(
  dir: string,
  options: Omit<FileSinkOptions, 'path'>,
  steps: readonly (EntryBatch[] | Between)[],
  via: 'write' | 'writeEntries',
): Promise<Outcome> {
  const path = join(dir, via, 'app.log')
  const clock = manualClock('2026-11-22T10:00:00Z')
  const seen = diagnostics()
  const sink = createFileSink({ path, mkdir: true, clock, ...options }, { report: seen.report })
  for (const step of steps) {
    if (typeof step === 'function') step(path, clock)
    else if (via === 'write') await sink.write(decoded(step))
    else await sink.writeEntries(step)
  }
  await sink.close()
  const { entries, bytes, dropped } = sink.stats
  const history = sink.historyPath === undefined ? undefined : readFileSync(historyPathOf(path), 'utf8')
  const reports = seen.seen.map(({ code, count }) => ({ code, count }))
  return { files: filesOf(path), history, entries, bytes, dropped, reports }
}

/** Runs `steps` both ways and checks that the outcomes are the same. */
async function bothWays(
  t: Test,
  options: Omit<FileSinkOptions, 'path'>,
  steps: readonly (EntryBatch[] | Between)[],
): Promise<Outcome> {
  const dir = t.testdir()
  const want = await run(dir, options, steps, 'write')
  const got = await run(dir, options, steps, 'writeEntries')
  t.same(
    got.files.map(([name, text]) => [name, text.length]),
    want.files.map(([name, text]) => [name, text.length]),
    'the same files, of the same sizes',
  )
  for (const [k, [name, text]] of got.files.entries()) {
    sameText(t, text, want.files[k]?.[1] ?? '', `${name} holds the same bytes`)
  }
  t.equal(got.history, want.history, 'the same history file')
  t.same(
    [got.entries, got.bytes, got.dropped],
    [want.entries, want.bytes, want.dropped],
    'the same stats: entries, bytes, dropped',
  )
  t.same(got.reports, want.reports, 'the same diagnostics, with the same counts')
  return got
}

t.test(
  'thousands of random entries: writeEntries writes the bytes of write() with them decoded, formatJson lines',
  async (t) => {
    const rnd = random(7)
    // Writes of one to four batches; now and then an entry of up to 200 KB,
    // more than the sink's line buffer holds.
    const writes: EntryBatch[][] = []
    for (let seq = 1; seq <= 4000; ) {
      const write: EntryBatch[] = []
      for (let b = 1 + Math.floor(rnd() * 4); b > 0; b--) {
        const n = 1 + Math.floor(rnd() * 60)
        write.push(batchOf(randomEntries(rnd, n, seq, 100_000), 1 + Math.floor(rnd() * 5)))
        seq += n
      }
      writes.push(write)
    }
    const all = writes.flatMap(decoded)
    t.ok(all.length >= 4000, `${all.length} entries in ${writes.length} writes`)

    const dir = t.testdir()
    const bytes = createFileSink({ path: join(dir, 'bytes.log'), history: 25 })
    const entries = createFileSink({ path: join(dir, 'entries.log'), history: 25 })
    // Not awaited one by one: each write renders while sonic-boom may still
    // hold the bytes of the ones before it.
    await Promise.all(writes.map((w) => bytes.writeEntries(w)))
    await Promise.all(writes.map((w) => entries.write(decoded(w))))
    await bytes.close()
    await entries.close()

    const want = jsonLines(all)
    t.ok(want.length > 1024 * 1024, `more than 1 MiB of lines (${want.length} characters)`)
    const got = readFileSync(join(dir, 'bytes.log'), 'utf8')
    sameText(
      t,
      got,
      readFileSync(join(dir, 'entries.log'), 'utf8'),
      'the file is byte for byte what write() wrote',
    )
    sameText(t, got, want, 'the file is formatJson(entry) + newline for every entry, in order')
    t.same(
      [bytes.stats.entries, bytes.stats.bytes],
      [all.length, Buffer.byteLength(want)],
      'stats count every entry and every byte',
    )
    t.equal(
      readFileSync(historyPathOf(join(dir, 'bytes.log')), 'utf8'),
      readFileSync(historyPathOf(join(dir, 'entries.log')), 'utf8'),
      'the history file is the same',
    )
  },
)

t.test(
  'size rotation cuts at the same lines as write(), and an oversized line gets a file of its own',
  async (t) => {
    const rnd = random(11)
    const oversized = createEntry({ msg: 'x'.repeat(5000), app: 'shop', seq: 99_999 })
    const steps: EntryBatch[][] = []
    for (let w = 0, seq = 1; w < 30; w++) {
      const write: EntryBatch[] = []
      for (let b = 1 + Math.floor(rnd() * 3); b > 0; b--) {
        const batch = randomEntries(rnd, 1 + Math.floor(rnd() * 12), seq)
        seq += batch.length
        // Now and then a line larger than the rotation size, amid a batch.
        if (rnd() < 0.15) batch.splice(Math.floor(rnd() * batch.length), 0, oversized)
        write.push(batchOf(batch))
      }
      steps.push(write)
    }
    const got = await bothWays(t, { rotate: { size: 4096 } }, steps)
    t.ok(got.files.length > 10, `many files (${got.files.length})`)
    const alone = got.files.filter(([, text]) => text === jsonLines([oversized]))
    t.ok(alone.length >= 2, `the oversized lines are in files of their own (${alone.length})`)
    t.ok(
      got.files.every(([, text]) => Buffer.byteLength(text) <= 4096 || text === jsonLines([oversized])),
      'every other file is within the size',
    )
  },
)

t.test('rotation by time, fsync, copytruncate, guard drops, history: the same as write()', async (t) => {
  const rnd = random(5)
  const write = (n: number) => [batchOf(randomEntries(rnd, n)), batchOf(randomEntries(rnd, 2))]
  const hour: Between = (_, clock) => clock.advance(3600_000)
  const truncate: Between = (path) => truncateSync(path, 0)
  await t.test('hourly rotation and fsync always', async (t) => {
    await bothWays(t, { rotate: { interval: 'hourly' }, fsync: 'always' }, [
      write(5),
      hour,
      write(3),
      write(4),
      hour,
      write(1),
    ])
  })
  await t.test('copytruncate, with size rotation', async (t) => {
    const got = await bothWays(t, { copytruncate: true, rotate: { size: 3000 } }, [
      write(8),
      truncate,
      write(3),
      write(6),
    ])
    t.ok(
      got.reports.some((d) => d.code === 'file_truncated'),
      'the truncation was noticed',
    )
  })
  await t.test('the free-space guard drops whole writes and counts their entries', async (t) => {
    const got = await bothWays(t, { minFreeBytes: Number.MAX_SAFE_INTEGER, policy: 'drop' }, [
      write(4),
      write(7),
    ])
    t.equal(got.dropped, 15, 'every entry of both writes counted as dropped')
  })
  await t.test('history keeps the last N of the writes', async (t) => {
    const got = await bothWays(t, { history: 4 }, [write(9), write(1), write(0)])
    t.equal(got.history?.split('\n').length, 5, 'four lines in the history file')
  })
  await t.test('history larger than the writes', async (t) => {
    await bothWays(t, { history: 100 }, [write(9), write(1)])
  })
})

t.test('formats for people decode the batches: the same lines as write()', async (t) => {
  const rnd = random(3)
  const steps = [
    [batchOf(randomEntries(rnd, 20)), batchOf(randomEntries(rnd, 5))],
    [batchOf(randomEntries(rnd, 7))],
  ]
  for (const options of [
    { format: 'logfmt' as const },
    { format: 'pretty' as const },
    { format: 'text' as const, template: '{time} {LEVEL} {source}: {msg}' },
  ]) {
    await t.test(options.format, async (t) => {
      await bothWays(t, { ...options, rotate: { size: 2000 } }, steps)
    })
  }
})

t.test('a batch whose rows skip some of its index writes only those rows, in their order', async (t) => {
  const all = randomEntries(random(17), 20)
  const index = indexOf(regionOf(all, 4))
  const picked = [0, 2, 3, 7, 19]
  const batch = new EntryBatch(index, Int32Array.from(picked))
  // Rows past `length` are not in the batch.
  const short = new EntryBatch(index, Int32Array.from([5, 6, 1]), 2)
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path })
  await sink.writeEntries([batch, short])
  await sink.close()
  const want = [...picked, 5, 6].map((row) => all[row] as LogEntry)
  sameText(t, readFileSync(path, 'utf8'), jsonLines(want), 'rows 0 2 3 7 19, then 5 6: nothing else')
  t.equal(sink.stats.entries, 7, 'seven entries counted')
})

t.test('invalid fields: one line each, and fields_invalid once per write with its count', async (t) => {
  const FORGED = '{"a":1}\n{"level":60,"msg":"forged"}'
  const entry = (seq: number, fields: string) =>
    createEntry({ msg: `entry ${seq}`, seq, app: 'test', fields: Fields.fromJSON(fields) })
  const got = await bothWays(t, {}, [
    [batchOf([entry(1, FORGED), entry(2, '{"ok":true}')]), batchOf([entry(3, '{"a":"x\ry"}')])],
    [batchOf([entry(4, '{"ok":true}')])],
    [batchOf([entry(5, 'not json')])],
  ])
  const lines = (got.files[0]?.[1] ?? '').split('\n').slice(0, -1)
  t.same(
    lines.map((l) => JSON.parse(l).seq),
    [1, 2, 3, 4, 5],
    'five entries make five lines, each valid JSON',
  )
  t.equal(JSON.parse(lines[0] ?? '{}').logkit_invalid_fields, FORGED, 'the forged fields are kept, quoted')
  t.same(
    got.reports.filter((d) => d.code === 'fields_invalid').map((d) => d.count),
    [2, 1],
    'fields_invalid: 2 for the first write, none for the second, 1 for the third',
  )
})

t.test(
  'once writeEntries resolved, the batch bytes are not used: overwriting them changes nothing',
  async (t) => {
    const path = join(t.testdir(), 'app.log')
    const sink = createFileSink({ path, history: 3 })
    // One identity throughout: the renderer renders it once and keeps it.
    const batch = batchOf(entries(5, 1))
    const first = decoded([batch])
    await sink.writeEntries([batch])
    // The producer reuses the memory once the write is acknowledged.
    batch.index.buf.fill(0x7b)
    const next = batchOf(entries(2, 6))
    const second = decoded([next])
    await sink.writeEntries([next])
    await sink.close()
    sameText(
      t,
      readFileSync(path, 'utf8'),
      jsonLines([...first, ...second]),
      'the file holds both writes as written',
    )
    t.same(
      linesOf(historyPathOf(path)),
      [...first, ...second].slice(-3).map((e) => formatJson(e)),
      'the history holds the entries as they were written',
    )
  },
)

t.test(
  'json: bytes that changed under a batch are written as they are; the history skips them',
  async (t) => {
    const path = join(t.testdir(), 'app.log')
    const sink = createFileSink({ path, history: 5 })
    const before = batchOf(entries(2, 1))
    const kept = decoded([before])
    await sink.writeEntries([before])
    const batch = batchOf(entries(3, 3))
    // Against the rules (the source still owned them), but it must not stop the sink.
    batch.index.buf.fill(0xff)
    await sink.writeEntries([batch])
    await sink.close()
    t.equal(linesOf(path).length, 5, 'one line for each of the five entries')
    t.same(
      linesOf(historyPathOf(path)),
      kept.map((e) => formatJson(e)),
      'the history holds the entries that still decoded',
    )
  },
)

t.test('writeEntries: nothing to write resolves, and after close() it is refused', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path })
  const empty = EntryBatch.of(indexOf(Buffer.alloc(0)))
  await sink.writeEntries([])
  await sink.writeEntries([empty])
  t.equal(readFileSync(path, 'utf8'), '', 'nothing written')
  await sink.close()
  await t.rejects(
    sink.writeEntries([batchOf(randomEntries(random(1), 2))]),
    { code: 'LOGKIT_ERR_FILE_CLOSED' },
    'writeEntries() after close() is refused',
  )
})

t.test('formats for people: a batch whose bytes no longer decode rejects, to be retried', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path, format: 'logfmt' })
  const batch = batchOf(randomEntries(random(2), 3))
  // Each entry's first field becomes one of a wire type protobuf does not have.
  batch.index.buf.fill(0xff)
  await t.rejects(sink.writeEntries([batch]), 'the write rejects')
  await sink.close()
  t.equal(readFileSync(path, 'utf8'), '', 'nothing written')
})

t.test(
  'a write that failed part-way is retried with the same batches: written once, reported once',
  async (t) => {
    const dir = t.testdir()
    const path = join(dir, 'app.log')
    const child = new URL('./fixtures/retry-child.mjs', import.meta.url).pathname
    const out = execFileSync(
      'sh',
      ['-c', `ulimit -f 1024 && exec "${process.execPath}" "${child}" "${path}"`],
      {
        encoding: 'utf8',
      },
    )
    const { results, reports, entries } = JSON.parse(out) as {
      results: string[]
      reports: { code: string; count?: number }[]
      entries: number
    }
    t.same(
      results,
      ['ok', 'LOGKIT_ERR_FILE_WRITE', 'ok'],
      'the write crossing the size limit rejects; its retry in the rotated-away file succeeds',
    )
    const seqs = (file: string) => linesOf(file).map((line) => JSON.parse(line).seq)
    const rotated = rotatedFiles(path)
    t.equal(rotated.length, 1, 'one rotated file')
    t.same(seqs(rotated[0]!), range(1, 100), 'it holds the first write: nothing of the failed one')
    t.same(seqs(path), range(101, 500), 'the live file holds the retried write, once')
    t.same(
      reports.filter((d) => d.code === 'fields_invalid'),
      [{ code: 'fields_invalid', count: 1 }],
      'its invalid fields are reported once, for the attempt that was written',
    )
    t.equal(entries, 500, 'stats count each entry once')
  },
)

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}
