// schema.json is what `logkit schema` generates (never stale), it accepts the
// example manifests, and rejects the broken ones a schema can tell apart.

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { schemaText } from '../src/schema.js'
import { manifests } from './helpers.js'
import { check } from './json-schema.js'

const schemaFile = new URL('../schema.json', import.meta.url)
const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>
const load = (file: string): unknown => parse(readFileSync(file, 'utf8'))

t.test(
  'schema.json is up to date with the zod schemas (run `npm run schema -w @logkit/cli` after changing them)',
  async (t) => {
    // Compared as JSON: the formatter may lay schema.json out its own way.
    t.strictSame(schema, JSON.parse(await schemaText()), 'schema.json equals the generated schema')
  },
)

t.test('the schema accepts the example manifests', async (t) => {
  const examples = [fileURLOf('../../../examples/demo/manifest.yaml'), join(manifests, 'good', 'full.yaml')]
  for (const file of examples) t.same(check(schema, load(file)), [], `${file} fits the schema`)
})

function fileURLOf(relative: string): string {
  return new URL(relative, import.meta.url).pathname
}

// Broken manifests whose problem a schema can see (not YAML errors, missing
// environment variables, duplicate ids, modules that do not exist, or values
// only a refinement checks, such as rotate.size: huge).
const schemaCanTell = [
  'not-a-map.yaml',
  'missing-app.yaml',
  'wrong-version.yaml',
  'unknown-top-key.yaml',
  'empty-pipelines.yaml',
  'no-sinks.yaml',
  'empty-sources.yaml',
  'unknown-pipeline-key.yaml',
  'unknown-source.yaml',
  'misspelled-operator.yaml',
  'unknown-operator.yaml',
  'missing-plugin.yaml',
  'sink-as-source.yaml',
  'wrong-option-type.yaml',
  'unknown-option.yaml',
  'missing-option.yaml',
  'bad-queue.yaml',
  'sources-not-a-list.yaml',
  'bad-app-name.yaml',
  'many-problems.yaml',
]

t.test('the schema rejects the broken manifests a schema can tell', async (t) => {
  for (const name of schemaCanTell) {
    const problems = check(schema, load(join(manifests, 'broken', name)))
    t.ok(problems.length > 0, `${name} is rejected (${problems[0] ?? 'accepted'})`)
  }
})

t.test(
  "a sink's own retry option is its own: the runtime's strict retry applies to the others",
  async (t) => {
    const manifest = (sink: Record<string, unknown>) => ({
      version: 1,
      app: 'shop',
      pipelines: { main: { sources: [{ use: 'fifo' }], sinks: [sink] } },
    })
    t.same(
      check(
        schema,
        manifest({
          use: 'webhook',
          url: 'https://hooks.example.com/x',
          retry: { retries: 3, retryOn: [429, 503], maxRetryAfterMs: 10_000 },
        }),
      ),
      [],
      'a webhook sink with retry.retryOn and maxRetryAfterMs fits',
    )
    t.ok(
      check(schema, manifest({ use: 'file', path: 'x.log', retry: { retryOn: [429] } })).length > 0,
      'retry.retryOn on a file sink (the runtime retry) is refused',
    )
    t.ok(
      check(schema, manifest({ use: './my-sink.js', retry: { retryOn: [429] } })).length > 0,
      "and on a sink of the user's own",
    )
    t.same(
      check(schema, manifest({ use: 'file', path: 'x.log', retry: { retries: 2 } })),
      [],
      'the runtime retry still fits a file sink',
    )
  },
)
