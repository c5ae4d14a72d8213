// The manifest's JSON Schema, for editors (yaml-language-server) and for
// checking manifests without the CLI. Generated from the same zod schemas the
// CLI validates with: the manifest shape (manifest-schema.ts) and the options
// schema of every plugin the CLI can resolve from its own install. schema.json
// in the package is this function's output; test/schema.test.ts fails when it
// is stale (`npm run schema -w @logkit/cli` rewrites it).

import { optionsJsonSchema, type PluginDefinition, z } from '@logkit/core'
import {
  componentSchema,
  manifestSchema,
  pipelineSchema,
  queueSchema,
  retrySchema,
} from './manifest-schema.js'
import { type Kind, PluginResolver, shortNames } from './plugins.js'

type Json = Record<string, unknown>

const toJson = (schema: z.ZodType): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json
  return rest
}

/** Every plugin definition resolvable from the CLI's own install, by kind and short name. */
export async function installedDefinitions(): Promise<Record<Kind, Map<string, PluginDefinition>>> {
  const resolver = new PluginResolver(process.cwd())
  const out: Record<Kind, Map<string, PluginDefinition>> = {
    source: new Map(),
    operator: new Map(),
    sink: new Map(),
  }
  for (const kind of ['source', 'operator', 'sink'] as const) {
    for (const name of Object.keys(shortNames[kind]).sort()) {
      const resolved = await resolver.resolve(kind, name)
      if (resolved.ok) out[kind].set(name, resolved.definition)
    }
  }
  return out
}

/** Moves a plugin schema's $defs to the root's, renamed, and rewrites its $refs: embedded, `#/$defs/x` would point at the root. */
function hoistDefs(schema: Json, prefix: string, rootDefs: Json): Json {
  const { $defs, ...rest } = schema
  const names = Object.keys(($defs as Json | undefined) ?? {})
  const rename = (ref: string) => {
    const name = ref.startsWith('#/$defs/') ? ref.slice('#/$defs/'.length) : undefined
    return name !== undefined && names.includes(name) ? `#/$defs/${prefix}${name}` : ref
  }
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite)
    if (value === null || typeof value !== 'object') return value
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? rename(v) : rewrite(v),
      ]),
    )
  }
  for (const name of names) rootDefs[`${prefix}${name}`] = rewrite(($defs as Json)[name])
  return rewrite(rest) as Json
}

export function manifestJsonSchema(definitions: Record<Kind, ReadonlyMap<string, PluginDefinition>>): Json {
  const rootDefs: Json = {}
  const base = toJson(componentSchema) as { properties: Json }
  const component = (kind: Kind): Json => {
    const runtime: Json = kind === 'sink' ? { queue: toJson(queueSchema), retry: toJson(retrySchema) } : {}
    const common: Json = { ...base.properties, ...runtime }
    const known = [...definitions[kind].keys()]
    // The runtime's `retry` is strict: it must not apply to a plugin that has a
    // `retry` option of its own (the webhook's retryOn, maxRetryAfterMs). At the
    // top it applies only to the other plugins (their `then` below has it too).
    const owners = known.filter((name) =>
      Object.hasOwn(
        (optionsJsonSchema(definitions[kind].get(name) as PluginDefinition)['properties'] as
          | Json
          | undefined) ?? {},
        'retry',
      ),
    )
    const { retry: runtimeRetry, ...outer } = common
    const retryUnlessOwned =
      runtimeRetry === undefined || owners.length === 0
        ? []
        : [
            {
              if: { properties: { use: { enum: owners } }, required: ['use'] },
              else: { properties: { retry: runtimeRetry } },
            },
          ]
    return {
      type: 'object',
      required: ['use'],
      properties: {
        ...(owners.length === 0 ? common : outer),
        use: {
          description: (base.properties['use'] as Json)['description'],
          anyOf: [
            { enum: known },
            {
              type: 'string',
              pattern: '^(\\./|\\.\\./|/|@|logkit-)',
              description: 'A package name or a path.',
            },
          ],
        },
      },
      allOf: [
        ...retryUnlessOwned,
        ...known.map((name) => {
          const definition = definitions[kind].get(name) as PluginDefinition
          const options = optionsJsonSchema(definition)
          const { $schema: _drop, ...own } = options
          const plugin = hoistDefs(own, `${kind}.${name}.`, rootDefs)
          // A plugin's own option of a runtime key's name (the webhook's `retry`) is the plugin's.
          const pluginProperties = (plugin['properties'] as Json | undefined) ?? {}
          const properties = {
            ...pluginProperties,
            ...Object.fromEntries(
              Object.entries(common).filter(([key]) => !Object.hasOwn(pluginProperties, key)),
            ),
            use: { const: name },
          }
          return {
            if: { properties: { use: { const: name } }, required: ['use'] },
            // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
            then: {
              ...plugin,
              ...(definition.description === undefined ? {} : { description: definition.description }),
              properties,
            },
          }
        }),
      ],
    }
  }
  const pipeline = toJson(pipelineSchema) as Json & { properties: Json }
  const listOf = (kind: Kind, key: string) => ({
    ...(pipeline.properties[key] as Json),
    items: component(kind),
  })
  const manifest = toJson(manifestSchema) as Json & { properties: Json }
  const pipelines = manifest.properties['pipelines'] as Json
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://unpkg.com/logkit/schema.json',
    title: 'logkit manifest',
    description:
      'A logkit manifest: `logkit compose manifest.yaml`. Generated by `npm run schema -w @logkit/cli`.',
    ...manifest,
    properties: {
      ...manifest.properties,
      pipelines: {
        ...pipelines,
        minProperties: 1,
        additionalProperties: {
          ...pipeline,
          properties: {
            ...pipeline.properties,
            sources: listOf('source', 'sources'),
            operators: listOf('operator', 'operators'),
            sinks: listOf('sink', 'sinks'),
          },
        },
      },
    },
    ...(Object.keys(rootDefs).length === 0 ? {} : { $defs: rootDefs }),
  }
}

/** schema.json's text. */
export async function schemaText(): Promise<string> {
  return `${JSON.stringify(manifestJsonSchema(await installedDefinitions()), null, 2)}\n`
}
