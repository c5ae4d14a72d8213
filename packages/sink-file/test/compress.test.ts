// Gzip of rotated files: in the background, readable with zlib, byte for byte
// what was written, with the original removed only once the .gz is complete.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { formatJson } from '@logkit/core'
import t from 'tap'
import { createFileSink } from '../src/index.js'
import { entries, rotatedFiles } from './helpers.js'

t.test('rotated files are gzipped; gunzip gives back exactly the lines written', async (t) => {
  const dir = t.testdir({ 'notes.txt': 'keep me' })
  const path = join(dir, 'app.log')
  const written = entries(200)
  const sink = createFileSink({ path, rotate: { size: '4KiB', compress: true } })
  for (let b = 0; b < 20; b++) await sink.write(written.slice(b * 10, b * 10 + 10))
  await sink.close()
  const rotated = rotatedFiles(path)
  t.ok(rotated.length >= 4, `several rotations (${rotated.length})`)
  t.ok(
    rotated.every((f) => f.endsWith('.log.gz')),
    'every rotated file is a .log.gz',
  )
  t.notOk(
    readdirSync(dir).some((n) => n.endsWith('.partial') || /\.\d+\.log$/.test(n)),
    'no partial gzip and no uncompressed original is left',
  )
  const text =
    rotated.map((f) => gunzipSync(readFileSync(f)).toString('utf8')).join('') + readFileSync(path, 'utf8')
  t.equal(
    text,
    written.map((e) => `${formatJson(e)}\n`).join(''),
    'gunzip of every file, then the live file, is exactly what was written',
  )
  t.equal(sink.stats.compressed, rotated.length, 'stats count the compressed files')
  t.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'keep me', 'other files are untouched')
  for (const f of rotated) t.equal(statSync(f).mode & 0o777, 0o600, `${basename(f)} is created 0600`)
})

t.test('a .gz keeps the mode option and the time of its last line', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path, mode: '0640', rotate: { size: '1MiB', compress: true } })
  await sink.write(entries(3))
  await sink.rotate()
  await sink.settled()
  const [gz] = rotatedFiles(path)
  t.ok(gz?.endsWith('.gz'), 'compressed')
  t.equal(statSync(gz!).mode & 0o777, 0o640, 'mode 0640 as configured')
  t.ok(statSync(gz!).mtimeMs <= Date.now(), 'an mtime carried over from the original, not in the future')
  await sink.close()
})

t.test('close() waits for the background gzip of the last rotation', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const sink = createFileSink({ path, rotate: { size: '64MiB', compress: true } })
  const many = entries(20_000)
  for (let b = 0; b < 20; b++) await sink.write(many.slice(b * 1000, b * 1000 + 1000))
  await sink.rotate()
  await sink.close()
  const names = readdirSync(dirname(path))
  t.same(
    names
      .filter((n) => n !== 'app.log' && n !== '.app.log.logkit')
      .map((n) => n.replace(/\d{4}-\d{2}-\d{2}/, 'DATE')),
    ['app.DATE.1.log.gz'],
    'right after close() the rotated file is compressed, its original and partial gone (beside the log and its record)',
  )
  t.equal(
    gunzipSync(readFileSync(rotatedFiles(path)[0]!))
      .toString('utf8')
      .split('\n').length - 1,
    20_000,
    'all 20,000 lines are in it',
  )
})
