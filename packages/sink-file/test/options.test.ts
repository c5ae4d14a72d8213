// Options: the manifest definition, validation purely from the schema (option
// paths in errors, units into numbers, defaults), JSON Schema for editors,
// and the unit parsers behind them.

import { join } from 'node:path'
import {
  createLogger,
  createMemoryChannel,
  createPipeline,
  isPluginDefinition,
  optionsJsonSchema,
  PLUGIN_API_VERSION,
  useSink,
  validateOptions,
} from '@logkit/core'
import t from 'tap'
import pkgDefault, {
  createFileSink,
  definitions,
  fileSink,
  parseDuration,
  parseMode,
  parseSize,
} from '../src/index.js'
import { messages } from './helpers.js'

t.test('the package exports the definition as default and under definitions.file', async (t) => {
  t.equal(pkgDefault, fileSink, 'default is the definition')
  t.equal(definitions.file, fileSink, 'definitions.file is the same definition')
  t.ok(isPluginDefinition(fileSink, 'sink'), 'core recognises it as a sink definition')
  t.equal(fileSink.name, 'file', 'named file, for use: file')
  t.equal(fileSink.apiVersion, PLUGIN_API_VERSION, 'built for this plugin API')
})

t.test('validation fills in the defaults and turns units into numbers', async (t) => {
  const config = validateOptions(fileSink, {
    path: 'logs/app.log',
    rotate: { size: '10MiB', maxAge: '7d', keep: 5 },
    minFreeBytes: '1GiB',
    mode: '0640',
  })
  t.same(
    config,
    {
      path: 'logs/app.log',
      timeFormat: 'utc',
      mode: 0o640,
      mkdir: false,
      rotate: { size: 10 * 2 ** 20, keep: 5, compress: false, maxAgeMs: 7 * 86_400_000 },
      minFreeBytes: 2 ** 30,
      policy: 'block',
      spaceCheckIntervalMs: 1000,
      copytruncate: false,
      history: 0,
      fsync: 'flush',
      reopenOnSighup: true,
    },
    'every default is there, and sizes and durations are numbers',
  )
  t.equal(validateOptions(fileSink, { path: 'a.log' }).mode, 0o600, 'mode defaults to 0600')
})

function issuesOf(raw: unknown): string[] {
  try {
    validateOptions(fileSink, raw)
  } catch (err) {
    const e = err as { code: string; details: { issues: { path: (string | number)[] }[] } }
    if (e.code !== 'LOGKIT_ERR_OPTIONS_INVALID') throw err
    return e.details.issues.map((i) => i.path.join('.'))
  }
  return []
}

t.test('invalid options are refused with LOGKIT_ERR_OPTIONS_INVALID naming each option', async (t) => {
  const cases: [string, unknown, string[]][] = [
    ['a missing path', {}, ['path']],
    ['an empty path', { path: '' }, ['path']],
    ['a folder as path', { path: 'logs/' }, ['path']],
    ['an unknown option', { path: 'a.log', rotation: {} }, ['']],
    ['a size that is not a size', { path: 'a.log', rotate: { size: 'ten megs' } }, ['rotate.size']],
    [
      'a duration that is not one',
      { path: 'a.log', rotate: { interval: 'daily', maxAge: 'a week' } },
      ['rotate.maxAge'],
    ],
    ['an unknown interval', { path: 'a.log', rotate: { interval: 'weekly' } }, ['rotate.interval']],
    ['a rotate without size or interval', { path: 'a.log', rotate: { keep: 3 } }, ['rotate']],
    ['a negative keep', { path: 'a.log', rotate: { size: 100, keep: -1 } }, ['rotate.keep']],
    ['a mode that YAML read as decimal', { path: 'a.log', mode: 640 }, ['mode']],
    ['a mode that is not octal', { path: 'a.log', mode: '0999' }, ['mode']],
    ['a template with format json', { path: 'a.log', format: 'json', template: '{msg}' }, ['template']],
    ['an unknown placeholder', { path: 'a.log', template: '{nope}' }, ['template']],
    ['an unknown policy', { path: 'a.log', policy: 'panic' }, ['policy']],
    ['an unknown fsync', { path: 'a.log', fsync: 'sometimes' }, ['fsync']],
    ['a fractional history', { path: 'a.log', history: 1.5 }, ['history']],
  ]
  for (const [what, raw, paths] of cases)
    t.same(issuesOf(raw), paths, `${what} is refused at ${paths.join(', ') || '(options)'}`)
  t.throws(
    () => validateOptions(fileSink, { path: 7 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'the error has the options code',
  )
})

t.test('the plain API validates with the same schema', async (t) => {
  const dir = t.testdir()
  t.throws(
    () => createFileSink({ path: join(dir, 'a.log'), rotate: { size: 'huge' } }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'a bad size is refused before anything is opened',
  )
})

t.test('the JSON Schema for editors describes every option', async (t) => {
  const schema = optionsJsonSchema(fileSink) as { properties: Record<string, { description?: string }> }
  const names = Object.keys(schema.properties).sort()
  t.same(
    names,
    [
      'colors',
      'copytruncate',
      'format',
      'fsync',
      'history',
      'minFreeBytes',
      'mkdir',
      'mode',
      'path',
      'policy',
      'reopenOnSighup',
      'rotate',
      'spaceCheckInterval',
      'template',
      'timeFormat',
    ],
    'every option is in the schema',
  )
  t.ok(schema.properties['path']?.description, 'options carry a description')
})

t.test('useSink + createPipeline: a manifest-style sink writes what a logger logs', async (t) => {
  const path = join(t.testdir(), 'app.log')
  const channel = createMemoryChannel()
  const pipeline = createPipeline({
    id: 'main',
    sources: [{ id: 'memory', create: channel.source }],
    sinks: [useSink(fileSink, { path, rotate: { size: '1KiB', keep: 100 } })],
    diagnosticEntries: false,
  })
  await pipeline.start()
  const log = createLogger({ app: 'demo', source: 'worker', transport: channel.transport })
  for (let i = 0; i < 50; i++) log.info({ i }, `hello ${i}`)
  await log.close()
  const stats = await pipeline.close()
  t.same(
    messages(path),
    Array.from({ length: 50 }, (_, i) => `hello ${i}`),
    'all 50 entries, in order, across rotated files',
  )
  t.equal(stats.sources[0]?.acknowledged, 50, 'all acknowledged')
})

t.test('parseSize reads bytes and binary and decimal units', async (t) => {
  const cases: [number | string, number | undefined][] = [
    [0, 0],
    [1234, 1234],
    ['1234', 1234],
    ['10MiB', 10 * 2 ** 20],
    ['10 MiB', 10 * 2 ** 20],
    ['10mib', 10 * 2 ** 20],
    ['10MB', 10_000_000],
    ['512k', 512 * 1024],
    ['512K', 512 * 1024],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['2T', 2 * 2 ** 40],
    ['100B', 100],
    ['1kB', 1000],
    ['ten', undefined],
    ['10XB', undefined],
    ['-1', undefined],
    [-1, undefined],
    [Number.NaN, undefined],
  ]
  for (const [input, bytes] of cases) t.equal(parseSize(input), bytes, `${JSON.stringify(input)} → ${bytes}`)
})

t.test('parseDuration reads milliseconds and units', async (t) => {
  const cases: [number | string, number | undefined][] = [
    [500, 500],
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1.5h', 5_400_000],
    ['7', undefined],
    ['7 days', undefined],
    [-5, undefined],
  ]
  for (const [input, ms] of cases) t.equal(parseDuration(input), ms, `${JSON.stringify(input)} → ${ms}`)
})

t.test('parseMode reads octal text and numbers up to 0o777', async (t) => {
  const cases: [number | string, number | undefined][] = [
    [0o640, 0o640],
    ['0640', 0o640],
    ['0o640', 0o640],
    ['640', 0o640],
    ['600', 0o600],
    [640, undefined],
    ['0999', undefined],
    ['rw-r-----', undefined],
    [1.5, undefined],
  ]
  for (const [input, mode] of cases)
    t.equal(parseMode(input), mode, `${JSON.stringify(input)} → ${mode?.toString(8)}`)
})
