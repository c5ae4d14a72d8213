// The plugin contract. A component is a plain building block (an RxJS
// operator, an Observable factory, a Sink object) plus a definition that gives
// it a manifest name, an options schema and the contract version it was built
// for. Options are validated purely (no I/O) before anything is created.

import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs'
import { z } from 'zod'
import type { DiagnosticReporter } from './diagnostics.js'
import type { LogEntry } from './entry.js'
import { LogkitError } from './errors.js'
import type { QueueOptions, RetryOptions } from './runtime/sink-runner.js'
import type { RuntimeEnv } from './runtime-dir.js'
import type { Sink } from './sink.js'
import type { EntryBatch } from './wire/entry-batch.js'

/** The plugin contract this core implements; a plugin declares the one it was built for. */
export const PLUGIN_API_VERSION = 1

/** What the runtime gives a source. */
export interface SourceContext {
  /** The source's id in its pipeline. */
  readonly id: string
  /** The app the pipeline collects for ('' outside a manifest). */
  readonly app: string
  /** Read only while this says so; see Demand. */
  readonly demand: Demand
  /**
   * Called with n when the first n entries this source emitted are done: written
   * by every sink, or dropped or folded by an operator. A durable source
   * releases them then.
   */
  onAck(listener: (position: number) => void): void
  /** Fires when intake stops (close): emit what is in hand, then complete. */
  readonly signal: AbortSignal
  readonly report: DiagnosticReporter
  /**
   * The environment the collector runs in, where a source finds the app's
   * runtime and shared-memory folders (LOGKIT_RUNTIME_DIR, LOGKIT_SHM_DIR);
   * undefined means process.env.
   */
  readonly env?: RuntimeEnv | undefined
  /**
   * The folder a relative path in this component's options is relative to:
   * the manifest's folder under `logkit compose`; undefined means the
   * process's working directory.
   */
  readonly dir?: string | undefined
}

/**
 * Downstream demand. RxJS has no backpressure; the runtime pauses demand when a
 * sink with the `block` policy fills up, and resumes it when it has drained.
 */
export interface Demand {
  readonly paused: boolean
  /** Resolves at once when not paused, else when demand resumes. */
  ready(): Promise<void>
  /** Calls `listener` each time demand resumes; returns a function that stops it. */
  onResume(listener: () => void): () => void
}

/** What the runtime gives an operator. */
export interface OperatorContext {
  readonly id: string
  readonly app: string
  /** Emits when the pipeline is flushed: operators that hold entries emit them. */
  readonly flushes: Observable<void>
  readonly report: DiagnosticReporter
  /** Clock and timers; undefined means asyncScheduler. */
  readonly scheduler?: SchedulerLike | undefined
}

/** What the runtime gives a sink. */
export interface SinkContext {
  readonly id: string
  readonly app: string
  readonly report: DiagnosticReporter
  /**
   * The folder a relative path in this component's options is relative to:
   * the manifest's folder under `logkit compose`; undefined means the
   * process's working directory.
   */
  readonly dir?: string | undefined
  /**
   * The collector's status, as `logkit status --json` prints it (pipelines,
   * sink queues, producers), for a sink that shows it (the http sink's
   * producer panel); undefined outside `logkit compose`.
   */
  readonly status?: (() => unknown) | undefined
}

/**
 * The Standard Schema interface, v1 (standardschema.dev): what zod 3.24 and
 * later, zod 4, valibot and arktype schemas implement. A plugin's options may
 * be any such schema; logkit's own use zod 4 (`z` from @logkit/core/options),
 * whose schemas also give editors a JSON Schema.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: readonly {
        readonly message: string
        readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined
      }[]
    }

type Schema = z.ZodType | StandardSchemaV1

/** The options a definition's create() gets: its schema's output. */
export type OptionsOf<S> = S extends z.ZodType
  ? z.output<S>
  : S extends StandardSchemaV1<unknown, infer O>
    ? O
    : never

interface DefinitionBase<S extends Schema> {
  /** The manifest's `use:` short name; appears in every diagnostic. */
  readonly name: string
  /** The plugin contract the plugin was built for. */
  readonly apiVersion: number
  /** Options schema: validation and JSON Schema for editors. */
  readonly options: S
  /** One line for `--help` and docs. */
  readonly description?: string
}

export interface SourceDefinition<S extends Schema = Schema> extends DefinitionBase<S> {
  readonly kind: 'source'
  /**
   * True when the source reads what belongs to the whole app (its shm rings,
   * its fifo pipes), which one reader per collector may read: pipelines that
   * name it share one instance (see shareSource), and the manifest must give it
   * the same options in each.
   */
  readonly perApp?: boolean
  /** Emits entries, or (logkit's own transports) EntryBatch values of entries that are still bytes. */
  readonly create: (options: OptionsOf<S>, context: SourceContext) => Observable<LogEntry | EntryBatch>
}

export interface OperatorDefinition<S extends Schema = Schema> extends DefinitionBase<S> {
  readonly kind: 'operator'
  /**
   * True when the operator may keep an entry past the call that gave it (batch,
   * buffer, delay). The runtime then acknowledges entries by order instead of
   * at once; see docs/acknowledgements.md.
   */
  readonly holds?: boolean
  // biome-ignore lint/suspicious/noExplicitAny: an operator may map entries to anything a sink takes
  readonly create: (options: OptionsOf<S>, context: OperatorContext) => OperatorFunction<LogEntry, any>
}

export interface SinkDefinition<S extends Schema = Schema> extends DefinitionBase<S> {
  readonly kind: 'sink'
  readonly create: (options: OptionsOf<S>, context: SinkContext) => Sink | Promise<Sink>
  /**
   * Optional: the last entries a sink with these options kept from an earlier
   * run (the file sink's `history`), as JSON lines in logkit's json format,
   * oldest first. `logkit compose` shows them first to `logkit tail` after a
   * restart. Read before the sink is created; no I/O beyond that read.
   */
  readonly history?: (
    options: OptionsOf<S>,
    context: { readonly dir?: string | undefined },
  ) => readonly string[]
}

// biome-ignore lint/suspicious/noExplicitAny: a definition of any options schema
type AnySchema = any
export type AnySourceDefinition = SourceDefinition<AnySchema>
export type AnyOperatorDefinition = OperatorDefinition<AnySchema>
export type AnySinkDefinition = SinkDefinition<AnySchema>
export type PluginDefinition = AnySourceDefinition | AnyOperatorDefinition | AnySinkDefinition

function define<D extends { kind: string; name: string; apiVersion: number }>(definition: D): D {
  if (definition.apiVersion !== PLUGIN_API_VERSION) {
    throw new LogkitError(
      'LOGKIT_ERR_PLUGIN_API_VERSION',
      `${definition.kind} "${definition.name}" was built for plugin API ${definition.apiVersion}, this @logkit/core implements ${PLUGIN_API_VERSION}: install a version of the plugin made for this core`,
      { details: { name: definition.name, apiVersion: definition.apiVersion } },
    )
  }
  const label = `${definition.kind} "${definition.name}"`
  const given = (definition as { options?: unknown }).options
  const options = optionsSchema(given, label)
  // The definition itself when its schema is used as it is (its identity and
  // prototype kept); a copy with the wrapped schema otherwise.
  if (options === given) return Object.isFrozen(definition) ? definition : Object.freeze(definition)
  return Object.freeze(
    Object.assign(Object.create(Object.getPrototypeOf(definition)), definition, { options }),
  )
}

/**
 * A definition's options schema as the zod schema validateOptions runs: a zod
 * 4 schema as it is (this package's zod, or another copy's), any other
 * Standard Schema wrapped (its issues keep their paths; editors get no JSON
 * Schema for it). Anything else, zod 3 before 3.24 included, is refused with
 * what to use instead (LOGKIT_ERR_PLUGIN_INVALID).
 */
function optionsSchema(options: unknown, label: string): z.ZodType {
  if (options instanceof z.ZodType) return options
  const o = options as Record<string, unknown> | null | undefined
  if (o !== null && typeof o === 'object') {
    if ('_zod' in o && typeof o['safeParse'] === 'function') return o as unknown as z.ZodType
    const standard = o['~standard'] as { version?: unknown; validate?: unknown } | undefined
    if (standard?.version === 1 && typeof standard.validate === 'function') {
      return fromStandardSchema(o as unknown as StandardSchemaV1, label)
    }
    if ('_def' in o && typeof o['safeParse'] === 'function') {
      throw new LogkitError(
        'LOGKIT_ERR_PLUGIN_INVALID',
        `${label}: its options schema is from zod 3 before 3.24, which has no Standard Schema: use z from @logkit/core/options (zod 4), or zod 3.24 or later`,
      )
    }
  }
  throw new LogkitError(
    'LOGKIT_ERR_PLUGIN_INVALID',
    `${label}: options must be a schema: z from @logkit/core/options, or any Standard Schema (zod 3.24 or later, zod 4, valibot, arktype)`,
  )
}

function fromStandardSchema(schema: StandardSchemaV1, label: string): z.ZodType {
  return z.any().transform((value, ctx) => {
    const result = schema['~standard'].validate(value ?? {})
    if (result instanceof Promise) {
      ctx.addIssue({
        code: 'custom',
        message: `${label}: its options schema validates asynchronously, which options cannot`,
      })
      return z.NEVER
    }
    if (result.issues !== undefined) {
      for (const issue of result.issues) {
        const path = (issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p))
        ctx.addIssue({
          code: 'custom',
          message: issue.message,
          path: path.filter((k): k is string | number => typeof k !== 'symbol'),
        })
      }
      return z.NEVER
    }
    return result.value
  })
}

export function defineSource<S extends Schema>(
  definition: Omit<SourceDefinition<S>, 'kind'>,
): SourceDefinition<S> {
  return define({ ...definition, kind: 'source' }) as SourceDefinition<S>
}

export function defineOperator<S extends Schema>(
  definition: Omit<OperatorDefinition<S>, 'kind'>,
): OperatorDefinition<S> {
  return define({ ...definition, kind: 'operator' }) as OperatorDefinition<S>
}

export function defineSink<S extends Schema>(definition: Omit<SinkDefinition<S>, 'kind'>): SinkDefinition<S> {
  return define({ ...definition, kind: 'sink' }) as SinkDefinition<S>
}

/** True when `value` looks like a plugin definition of the given kind (for modules loaded by path). */
export function isPluginDefinition(
  value: unknown,
  kind?: PluginDefinition['kind'],
): value is PluginDefinition {
  if (value === null || typeof value !== 'object') return false
  const d = value as Partial<PluginDefinition>
  return (
    typeof d.name === 'string' &&
    typeof d.create === 'function' &&
    typeof d.apiVersion === 'number' &&
    d.options !== null &&
    typeof d.options === 'object' &&
    (kind === undefined ? d.kind !== undefined : d.kind === kind)
  )
}

/**
 * A definition a module exported, checked as defineSource/defineOperator/
 * defineSink check theirs: its plugin API version, and its options schema
 * (zod 4 from any copy, or any Standard Schema; zod 3 before 3.24 is refused
 * with what to use). For definitions written as plain objects, or made with
 * another copy of @logkit/core. Throws LOGKIT_ERR_PLUGIN_API_VERSION or
 * LOGKIT_ERR_PLUGIN_INVALID.
 */
export function checkedDefinition<D extends PluginDefinition>(definition: D): D {
  return define(definition)
}

/** One problem with one option. `path` is where it is in the component's options. */
export interface OptionIssue {
  readonly path: readonly (string | number)[]
  readonly message: string
  /** zod's issue code, e.g. 'invalid_type', 'unrecognized_keys'. */
  readonly code?: string
  /** With 'unrecognized_keys': the keys the schema does not know. */
  readonly keys?: readonly string[]
}

/**
 * Validate `raw` against a definition's schema. Throws LOGKIT_ERR_OPTIONS_INVALID
 * whose message names every offending option and whose `details.issues` lists
 * them with their paths (the CLI maps those to manifest lines and columns).
 */
export function validateOptions<S extends Schema>(
  definition: DefinitionBase<S> & { kind: string },
  raw: unknown,
): OptionsOf<S> {
  // define() made every definition's options a zod schema (see optionsSchema).
  const result = (definition.options as z.ZodType).safeParse(raw ?? {})
  if (result.success) return result.data as OptionsOf<S>
  const issues: OptionIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.filter((k): k is string | number => typeof k !== 'symbol'),
    message: issue.message,
    code: issue.code,
    ...(issue.code === 'unrecognized_keys' ? { keys: issue.keys } : {}),
  }))
  const lines = issues.map((i) => `option "${i.path.join('.') || '(options)'}": ${i.message}`)
  throw new LogkitError(
    'LOGKIT_ERR_OPTIONS_INVALID',
    `${definition.kind} "${definition.name}": ${lines.join('; ')}`,
    { details: { name: definition.name, kind: definition.kind, issues } },
  )
}

/** The JSON Schema of a definition's options, for editors and docs. */
export function optionsJsonSchema(definition: DefinitionBase<Schema>): Record<string, unknown> {
  try {
    return z.toJSONSchema(definition.options as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >
  } catch {
    // A schema this zod cannot describe (another copy's): any options, as far as editors know.
    return {}
  }
}

/** Options the runtime takes for every sink, beside the sink's own. */
export interface SinkRuntimeOptions {
  readonly id?: string
  readonly queue?: QueueOptions
  readonly retry?: RetryOptions
}

/**
 * A definition and its raw options → a component for createPipeline. Options
 * are validated here, before anything is created.
 */
export function useSource(definition: AnySourceDefinition, options?: unknown, id?: string) {
  const opts = validateOptions(definition, options)
  return { id: id ?? definition.name, create: (context: SourceContext) => definition.create(opts, context) }
}

export function useOperator(definition: AnyOperatorDefinition, options?: unknown, id?: string) {
  const opts = validateOptions(definition, options)
  return {
    id: id ?? definition.name,
    holds: definition.holds === true,
    create: (context: OperatorContext) => definition.create(opts, context),
  }
}

export function useSink(definition: AnySinkDefinition, options?: unknown, runtime: SinkRuntimeOptions = {}) {
  const opts = validateOptions(definition, options)
  return {
    ...runtime,
    id: runtime.id ?? definition.name,
    create: (context: SinkContext) => definition.create(opts, context),
  }
}
