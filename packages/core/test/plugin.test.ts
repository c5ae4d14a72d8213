import { Observable, of } from 'rxjs'
import t from 'tap'
import { z } from 'zod'
import { createEntry, type LogEntry } from '../src/entry.js'
import {
  defineOperator,
  defineSink,
  defineSource,
  isPluginDefinition,
  optionsJsonSchema,
  PLUGIN_API_VERSION,
  useOperator,
  useSink,
  useSource,
  validateOptions,
} from '../src/plugin.js'
import { createPipeline } from '../src/runtime/pipeline.js'
import { createMemorySink } from '../src/testing/memory-sink.js'

const greeting = defineSource({
  name: 'greeting',
  apiVersion: PLUGIN_API_VERSION,
  options: z.object({ count: z.number().int().positive(), text: z.string().default('hi') }).strict(),
  create: (opts) =>
    of(...Array.from({ length: opts.count }, (_, i) => createEntry({ msg: `${opts.text} ${i}` }))),
})

t.test('a plugin built for another API version is refused with a code', (t) => {
  t.throws(
    () => defineSink({ name: 'old', apiVersion: 0, options: z.object({}), create: () => createMemorySink() }),
    { code: 'LOGKIT_ERR_PLUGIN_API_VERSION' },
  )
  t.end()
})

t.test('invalid options name every offending option and carry their paths', (t) => {
  try {
    validateOptions(greeting, { count: 'three', colour: 'red' })
    t.fail('should have thrown')
  } catch (err) {
    const e = err as { code: string; message: string; details: { issues: { path: string[] }[] } }
    t.equal(e.code, 'LOGKIT_ERR_OPTIONS_INVALID', 'code')
    t.match(e.message, /option "count"/, 'the message names count')
    t.match(e.message, /colour/, 'and the unknown key')
    t.same(
      e.details.issues.map((i) => i.path.join('.')).sort(),
      ['', 'count'].sort(),
      'issues carry paths (the unknown key is reported on the object)',
    )
    const unknown = (e.details.issues as { code?: string; keys?: string[] }[]).find(
      (i) => i.code === 'unrecognized_keys',
    )
    t.same(unknown?.keys, ['colour'], 'the unknown key is named in the issue, not only in its message')
  }
  t.same(
    validateOptions(greeting, { count: 2 }),
    { count: 2, text: 'hi' },
    'valid options come back with defaults',
  )
  t.end()
})

t.test('definitions emit a JSON Schema for editors', (t) => {
  const schema = optionsJsonSchema(greeting)
  t.equal(schema['type'], 'object', 'an object schema')
  t.same(
    Object.keys(schema['properties'] as object).sort(),
    ['count', 'text'],
    'with the options as properties',
  )
  t.same(schema['required'], ['count'], 'count is required, text has a default')
  t.equal(schema['additionalProperties'], false, 'unknown options are refused')
  t.end()
})

t.test('isPluginDefinition tells definitions from other modules', (t) => {
  t.ok(isPluginDefinition(greeting, 'source'), 'a source definition')
  t.notOk(isPluginDefinition(greeting, 'sink'), 'not a sink')
  t.notOk(isPluginDefinition({ name: 'x', create() {} }), 'a look-alike without schema and version is not')
  t.notOk(isPluginDefinition(null), 'null is not')
  t.end()
})

t.test('definitions become pipeline components, validated before anything is created', async (t) => {
  const seen: string[] = []
  const shout = defineOperator({
    name: 'shout',
    apiVersion: PLUGIN_API_VERSION,
    options: z.object({ suffix: z.string() }).strict(),
    create: (opts, ctx) => {
      seen.push(ctx.id)
      return (source) =>
        new Observable<LogEntry>((s) =>
          source.subscribe({
            next: (e) => s.next({ ...e, msg: e.msg.toUpperCase() + opts.suffix }),
            complete: () => s.complete(),
          }),
        )
    },
  })
  const memory = createMemorySink()
  const collect = defineSink({
    name: 'collect',
    apiVersion: PLUGIN_API_VERSION,
    options: z.object({}).strict(),
    create: () => memory,
  })
  t.throws(
    () => useOperator(shout, { suffix: 1 }),
    { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
    'bad options refused at use',
  )
  const pipeline = createPipeline({
    sources: [useSource(greeting, { count: 2 })],
    operators: [useOperator(shout, { suffix: '!' })],
    sinks: [useSink(collect, {}, { id: 'out', queue: { capacity: 5 } })],
  })
  await pipeline.start()
  const stats = await pipeline.closed
  t.same(
    memory.entries.map((e) => e.msg),
    ['HI 0!', 'HI 1!'],
    'the entries went through the operator into the sink',
  )
  t.same(seen, ['shout'], 'the operator got its context with its id')
  t.equal(stats.sinks[0]?.id, 'out', 'the sink runs under the id given')
  t.equal(stats.sinks[0]?.capacity, 5, 'with the queue options given')
})

t.test(
  'options may be any Standard Schema: a foreign schema validates with its paths; zod 3 before 3.24 is refused',
  async (t) => {
    const { z: z3 } = (await import('zod3' as string)) as typeof import('zod')
    // zod 3.25 (a Standard Schema, not zod 4) as an app would have it.
    const shout = defineOperator({
      name: 'shout',
      apiVersion: PLUGIN_API_VERSION,
      options: z3.object({
        times: z3.number().int().min(1).default(2),
        deep: z3.object({ on: z3.boolean() }).optional(),
      }),
      create: () => (source: Observable<LogEntry>) => source,
    })
    t.same(validateOptions(shout, {}), { times: 2 }, 'defaults from the foreign schema')
    t.throws(
      () => validateOptions(shout, { times: 0, deep: { on: 'yes' } }),
      {
        code: 'LOGKIT_ERR_OPTIONS_INVALID',
        details: { issues: [{ path: ['times'] }, { path: ['deep', 'on'] }] },
      },
      'every issue at its own path',
    )
    t.doesNotThrow(
      () => optionsJsonSchema(shout),
      'the CLI can still make its JSON Schema (any options, to editors)',
    )
    // A schema with zod 3's shape but no Standard Schema (zod before 3.24).
    const old = { _def: {}, safeParse: () => ({ success: true, data: {} }) }
    t.throws(
      () =>
        defineOperator({
          name: 'old',
          apiVersion: PLUGIN_API_VERSION,
          options: old as never,
          create: () => (s) => s,
        }),
      { code: 'LOGKIT_ERR_PLUGIN_INVALID', message: /zod 3 before 3\.24.*@logkit\/core\/options/ },
    )
    t.throws(
      () =>
        defineSink({
          name: 'none',
          apiVersion: PLUGIN_API_VERSION,
          options: {} as never,
          create: () => ({ write() {} }),
        }),
      { code: 'LOGKIT_ERR_PLUGIN_INVALID', message: /options must be a schema/ },
    )
  },
)
