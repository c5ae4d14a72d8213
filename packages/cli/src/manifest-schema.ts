// The shape of a manifest, one zod schema for two uses: validating the parsed
// YAML (before any plugin is looked at) and generating the JSON Schema editors
// read. Components are loose here: their own options are checked against each
// plugin's schema once the plugin is resolved.

import { z } from '@logkit/core'

export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

const use = z
  .string({ error: 'expected the component to use: a short name, a package name or a ./path' })
  .min(1, { error: 'expected the component to use: a short name, a package name or a ./path' })
  .describe('A short name (shm, fifo, file, filter…), a package name (@acme/logkit-sink-s3) or a ./path.')

const id = z
  .string({ error: 'expected an id (text)' })
  .regex(NAME, { error: 'expected an id of letters, digits, ".", "_" or "-"' })
  .describe('Names the component in diagnostics, status and totals (default: its use name).')

export const componentSchema = z.looseObject({ use, id: id.optional() })

const entryCount = z
  .number({ error: 'expected a number of entries' })
  .int({ error: 'expected a whole number of entries' })
  .positive({ error: 'expected at least 1 entry' })

export const queueSchema = z
  .strictObject({
    capacity: entryCount.optional().describe('Entries the queue holds (default 10000).'),
    policy: z
      .enum(['block', 'drop_newest', 'drop_oldest'], {
        error: "expected 'block', 'drop_newest' or 'drop_oldest'",
      })
      .optional()
      .describe('What a full queue does (default block).'),
    maxBatch: entryCount.optional().describe('Most entries handed to one write (default 1000).'),
  })
  .describe("The sink's bounded queue.")

export const retrySchema = z
  .strictObject({
    retries: z
      .number({ error: 'expected a number of retries' })
      .int({ error: 'expected a whole number of retries' })
      .min(0, { error: 'expected 0 or more retries' })
      .optional()
      .describe('Retries of a failed write (default 3).'),
    minDelayMs: z
      .number({ error: 'expected milliseconds' })
      .min(0, { error: 'expected 0 ms or more' })
      .optional()
      .describe('First backoff (default 100).'),
    maxDelayMs: z
      .number({ error: 'expected milliseconds' })
      .min(0, { error: 'expected 0 ms or more' })
      .optional()
      .describe('Longest backoff.'),
  })
  .describe("How the sink's failed writes are retried.")

export const sinkComponentSchema = z.looseObject({
  use,
  id: id.optional(),
  queue: queueSchema.optional(),
  // Checked with the plugin (manifest.ts): a sink whose options have `retry`
  // (the webhook's HTTP retries) takes it itself; for the others it is the runtime's.
  retry: z.unknown().optional(),
})

/** Keys every component takes beside its plugin's options. */
export const COMPONENT_KEYS = ['use', 'id'] as const
export const SINK_RUNTIME_KEYS = ['queue', 'retry'] as const

export const pipelineSchema = z.strictObject({
  description: z.string({ error: 'expected text' }).optional().describe('What the pipeline is for.'),
  sources: z
    .array(componentSchema, { error: 'expected a list of sources' })
    .min(1, { error: 'a pipeline needs at least one source' }),
  operators: z.array(componentSchema, { error: 'expected a list of operators' }).optional(),
  sinks: z
    .array(sinkComponentSchema, { error: 'expected a list of sinks' })
    .min(1, { error: 'a pipeline needs at least one sink' }),
})

export const manifestSchema = z.strictObject({
  version: z.literal(1, { error: 'expected version: 1' }).describe('The manifest format version.'),
  app: z
    .string({ error: 'expected the app name (text)' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, {
      error: 'expected an app name of letters, digits, ".", "_" or "-" (at most 128)',
    })
    .describe('The application whose producers this collector reads.'),
  pipelines: z
    .record(
      z.string().regex(NAME, { error: 'expected a pipeline name of letters, digits, ".", "_" or "-"' }),
      pipelineSchema,
      { error: 'expected a map of pipelines by name' },
    )
    .describe('Independent pipelines, by name.'),
})

export const TOP_LEVEL_KEYS = Object.keys(manifestSchema.shape)
export const PIPELINE_KEYS = Object.keys(pipelineSchema.shape)
