import t from 'tap'
import { coreOperators } from '../../src/operators/index.js'
import {
  type OperatorDefinition,
  optionsJsonSchema,
  PLUGIN_API_VERSION,
  validateOptions,
} from '../../src/plugin.js'

/** The same record, as the runtime sees it: any operator definition by name. */
const definitions: Readonly<Record<string, OperatorDefinition>> = coreOperators

const bad: Record<string, unknown> = {
  filter: { level: 7.5 },
  rateLimit: { perSecond: 'x' },
  format: { format: 'yaml' },
  batch: { maxWaitMs: 'soon' },
  redact: { paths: ['a['] },
  enrich: { override: 'yes' },
  dedupe: { maxEntries: 0 },
}

t.test('coreOperators holds the seven definitions by manifest name', (t) => {
  t.same(
    Object.keys(coreOperators).sort(),
    ['batch', 'dedupe', 'enrich', 'filter', 'format', 'rateLimit', 'redact'],
    'the seven core operators are there',
  )
  for (const [name, definition] of Object.entries(definitions)) {
    t.equal(definition.name, name, `${name} is keyed by its manifest name`)
    t.equal(definition.kind, 'operator', `${name} is an operator`)
    t.equal(definition.apiVersion, PLUGIN_API_VERSION, `${name} is built for this plugin API`)
    t.type(definition.description, 'string', `${name} describes itself`)
  }
  t.end()
})

t.test('each core operator schema rejects a bad option and an unknown one', (t) => {
  for (const [name, definition] of Object.entries(definitions)) {
    const options = bad[name]
    t.throws(
      () => validateOptions(definition, options),
      { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
      `${name} rejects ${JSON.stringify(options)}`,
    )
    t.throws(
      () => validateOptions(definition, { ...(options as object), nonsense: true }),
      { code: 'LOGKIT_ERR_OPTIONS_INVALID' },
      `${name} rejects an unknown option`,
    )
  }
  t.end()
})

t.test('an options error names the option and says what was expected', (t) => {
  try {
    validateOptions(coreOperators.rateLimit, { perSecond: 'x' })
    t.fail('rateLimit accepted perSecond "x"')
  } catch (error) {
    const issues = (error as { details?: { issues?: { path: unknown[] }[] } }).details?.issues
    t.same(issues?.[0]?.path, ['perSecond'], 'the issue points at perSecond')
  }
  t.end()
})

t.test('each core operator has a JSON Schema for editors', (t) => {
  for (const [name, definition] of Object.entries(definitions)) {
    const schema = optionsJsonSchema(definition)
    t.equal(schema['type'], 'object', `${name} options are an object`)
    t.equal(schema['additionalProperties'], false, `${name} options allow no unknown keys`)
  }
  t.end()
})
