// Loading a manifest: read, parse (keeping positions), interpolate, check the
// shape, resolve every plugin and validate its options, collecting every
// problem with its line and column. Nothing is started here; the result is a
// plan that compose turns into pipelines.

import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { z } from '@logkit/core'
import {
  LogkitError,
  type OptionIssue,
  type PluginDefinition,
  type QueueOptions,
  type RetryOptions,
  validateOptions,
} from '@logkit/core'
import { LineCounter, parseDocument } from 'yaml'
import { suggestion } from './did-you-mean.js'
import { type CliErrorCode, cliError } from './errors.js'
import {
  manifestSchema,
  PIPELINE_KEYS,
  queueSchema,
  retrySchema,
  SINK_RUNTIME_KEYS,
  TOP_LEVEL_KEYS,
} from './manifest-schema.js'
import { type Kind, PluginResolver } from './plugins.js'
import { type Env, type Path, type Position, YamlTree } from './yaml-tree.js'

export interface ManifestProblem {
  readonly code: CliErrorCode
  readonly message: string
  readonly line: number
  readonly col: number
}

export interface ComponentPlan {
  readonly kind: Kind
  readonly use: string
  readonly id: string
  readonly definition: PluginDefinition
  /** The plugin's own options, as written (validated, not yet parsed: use* parses again). */
  readonly options: Record<string, unknown>
  readonly queue?: QueueOptions
  readonly retry?: RetryOptions
}

export interface PipelinePlan {
  readonly name: string
  readonly sources: readonly ComponentPlan[]
  readonly operators: readonly ComponentPlan[]
  readonly sinks: readonly ComponentPlan[]
}

export interface ManifestPlan {
  readonly file: string
  readonly app: string
  readonly pipelines: readonly PipelinePlan[]
}

export interface LoadResult {
  readonly file: string
  readonly plan?: ManifestPlan
  readonly problems: readonly ManifestProblem[]
}

export interface LoadOptions {
  readonly env?: Env
}

/** `file:line:col message` */
export function formatProblem(file: string, problem: ManifestProblem): string {
  return `${file}:${problem.line}:${problem.col} ${problem.message} [${problem.code}]`
}

/** Load and validate; never throws for a problem in the manifest (they are all in `problems`). */
export async function loadManifest(
  file: string,
  { env = process.env }: LoadOptions = {},
): Promise<LoadResult> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable'
    return {
      file,
      problems: [
        {
          code: 'LOGKIT_ERR_MANIFEST_READ',
          message: `cannot read the manifest (${reason}): check the path`,
          line: 1,
          col: 1,
        },
      ],
    }
  }
  return checkManifest(text, file, { env })
}

/** Validate manifest text; `file` names it in messages and anchors ./paths. */
export async function checkManifest(
  text: string,
  file: string,
  { env = process.env }: LoadOptions = {},
): Promise<LoadResult> {
  const problems: ManifestProblem[] = []
  const add = (code: CliErrorCode, message: string, position: Position) =>
    problems.push({ code, message, line: position.line, col: position.col })
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const tree = new YamlTree(doc, lines)
  for (const error of doc.errors) {
    const position = tree.positionOfOffset(error.pos[0])
    const message = error.message.split('\n')[0] ?? error.message
    const duplicate = error.code === 'DUPLICATE_KEY'
    add(
      'LOGKIT_ERR_MANIFEST_YAML',
      duplicate
        ? `${message.replace(/\.$/, '')}: each name may appear once (pipelines, options)`
        : `YAML: ${message}`,
      position,
    )
  }
  if (doc.errors.length > 0) return done(file, problems)

  const value = tree.toValue(env)
  for (const p of tree.problems) add(p.code, p.message, p.position)

  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    add('LOGKIT_ERR_MANIFEST_TYPE', 'expected a map with version, app and pipelines', tree.position([]))
    return done(file, problems)
  }
  const root = value as Record<string, unknown>

  // Shape: every issue becomes a problem at its node.
  const parsed = manifestSchema.safeParse(root)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) shapeProblem(issue, tree, root, add)
  }
  const pipelinesValue = root['pipelines']
  if (pipelinesValue !== null && typeof pipelinesValue === 'object' && !Array.isArray(pipelinesValue)) {
    if (Object.keys(pipelinesValue).length === 0) {
      add(
        'LOGKIT_ERR_MANIFEST_PIPELINE_EMPTY',
        'no pipelines: add at least one under pipelines:',
        tree.position(['pipelines']),
      )
    }
  }

  // Components: resolve and validate every one that has a usable shape, even
  // when other parts are wrong, so that one run shows every problem.
  const resolver = new PluginResolver(dirname(resolve(file)))
  const pipelines: PipelinePlan[] = []
  const perApp = new PerAppSources(tree, add)
  const app = typeof root['app'] === 'string' ? root['app'] : ''
  if (pipelinesValue !== null && typeof pipelinesValue === 'object' && !Array.isArray(pipelinesValue)) {
    for (const [name, pipelineValue] of Object.entries(pipelinesValue as Record<string, unknown>)) {
      if (pipelineValue === null || typeof pipelineValue !== 'object' || Array.isArray(pipelineValue))
        continue
      const pipeline = pipelineValue as Record<string, unknown>
      const ids = new Map<string, number>()
      const plan: Record<'sources' | 'operators' | 'sinks', ComponentPlan[]> = {
        sources: [],
        operators: [],
        sinks: [],
      }
      for (const [list, kind] of [
        ['sources', 'source'],
        ['operators', 'operator'],
        ['sinks', 'sink'],
      ] as const) {
        const items = pipeline[list]
        if (!Array.isArray(items)) continue
        for (let i = 0; i < items.length; i++) {
          const path = ['pipelines', name, list, i]
          const component = await checkComponent(kind, items[i], path, resolver, tree, add, root)
          if (component === undefined) continue
          if (kind === 'source') perApp.check(component, name, path)
          const count = (ids.get(component.id) ?? 0) + 1
          ids.set(component.id, count)
          const explicit = (items[i] as Record<string, unknown>)['id'] !== undefined
          if (count > 1 && explicit) {
            add(
              'LOGKIT_ERR_MANIFEST_ID_DUPLICATE',
              `duplicate id "${component.id}" in pipeline ${name}: give each component its own id`,
              tree.position([...path, 'id']),
            )
          }
          // Two unnamed components of the same plugin get #2, #3 …
          const id = count > 1 && !explicit ? `${component.id}#${count}` : component.id
          plan[list].push({ ...component, id })
        }
      }
      pipelines.push({ name, ...plan })
    }
  }
  if (problems.length > 0) return done(file, problems)
  return { file, problems, plan: { file, app, pipelines } }
}

/**
 * Sources that read the whole app (shm, fifo: `perApp`) have one reader per
 * collector, which pipelines share: each pipeline may name one once, and every
 * pipeline that names it gives the same options.
 */
class PerAppSources {
  readonly #first = new Map<PluginDefinition, { pipeline: string; path: Path; options: string }>()

  constructor(
    readonly tree: YamlTree,
    readonly add: Add,
  ) {}

  check(component: Omit<ComponentPlan, 'id'>, pipeline: string, path: Path): void {
    const definition = component.definition
    if (definition.kind !== 'source' || definition.perApp !== true) return
    const options = canonicalJson(component.options)
    const first = this.#first.get(definition)
    if (first === undefined) {
      this.#first.set(definition, { pipeline, path, options })
      return
    }
    const at = this.tree.position([...path, 'use'])
    const firstAt = this.tree.position([...first.path, 'use'])
    if (first.pipeline === pipeline) {
      this.add(
        'LOGKIT_ERR_MANIFEST_SOURCE_TWICE',
        `pipeline ${pipeline} reads "${component.use}" twice (also at line ${firstAt.line}): it reads every producer of the app already; remove this one`,
        at,
      )
    } else if (first.options !== options) {
      this.add(
        'LOGKIT_ERR_MANIFEST_SOURCE_OPTIONS',
        `"${component.use}" has one reader per app, shared by every pipeline that names it, but its options here differ from pipeline ${first.pipeline}'s (line ${firstAt.line}): give it the same options in both`,
        at,
      )
    }
  }
}

/** JSON with object keys sorted, to compare options as written. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  )
}

function done(file: string, problems: ManifestProblem[]): LoadResult {
  problems.sort((a, b) => a.line - b.line || a.col - b.col)
  return { file, problems }
}

type Add = (code: CliErrorCode, message: string, position: Position) => void

function where(path: Path): string {
  if (path.length === 0) return 'at the top level'
  if (path.length === 2 && path[0] === 'pipelines') return `in pipeline ${String(path[1])}`
  return `in ${path.join('.')}`
}

function shapeProblem(
  issue: z.core.$ZodIssue,
  tree: YamlTree,
  root: Record<string, unknown>,
  add: Add,
): void {
  const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol')
  if (issue.code === 'unrecognized_keys') {
    const last = path.at(-1)
    const allowed =
      path.length === 0
        ? TOP_LEVEL_KEYS
        : path.length === 2
          ? PIPELINE_KEYS
          : last === 'queue'
            ? Object.keys(queueSchema.shape)
            : last === 'retry'
              ? Object.keys(retrySchema.shape)
              : []
    for (const key of issue.keys) {
      const hint = suggestion(key, allowed)
      add(
        'LOGKIT_ERR_MANIFEST_KEY_UNKNOWN',
        `unknown key "${key}" ${where(path)}${hint || (allowed.length > 0 ? `: expected ${allowed.join(', ')}` : '')}`,
        tree.position([...path, key], { key: true }),
      )
    }
    return
  }
  if (!tree.has(path) || lookup(root, path) === null) {
    const last = path[path.length - 1]
    if (last === 'sources' || last === 'sinks') {
      add(
        'LOGKIT_ERR_MANIFEST_PIPELINE_EMPTY',
        `pipeline ${String(path[1])} has no ${last}: add at least one`,
        tree.has(path) ? tree.position(path, { key: true }) : tree.position(path.slice(0, -1), { key: true }),
      )
      return
    }
    if (tree.has(path)) {
      add(
        'LOGKIT_ERR_MANIFEST_TYPE',
        `"${String(last)}" is empty: ${issue.message}`,
        tree.position(path, { key: true }),
      )
      return
    }
    add(
      'LOGKIT_ERR_MANIFEST_KEY_MISSING',
      `missing "${String(last)}" ${where(path.slice(0, -1))}: ${issue.message}`,
      path.length > 1 ? tree.position(path.slice(0, -1), { key: true }) : { line: 1, col: 1 },
    )
    return
  }
  if (path.length === 1 && path[0] === 'version') {
    add('LOGKIT_ERR_MANIFEST_VERSION', `unsupported manifest version: ${issue.message}`, tree.position(path))
    return
  }
  if (issue.code === 'too_small' && (path.at(-1) === 'sources' || path.at(-1) === 'sinks')) {
    add(
      'LOGKIT_ERR_MANIFEST_PIPELINE_EMPTY',
      `pipeline ${String(path[1])}: ${issue.message}`,
      tree.position(path, { key: true }),
    )
    return
  }
  add('LOGKIT_ERR_MANIFEST_TYPE', `${path.join('.') || 'manifest'}: ${issue.message}`, tree.position(path))
}

function lookup(root: unknown, path: Path): unknown {
  let value = root
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string | number, unknown>)[segment]
  }
  return value
}

async function checkComponent(
  kind: Kind,
  raw: unknown,
  path: Path,
  resolver: PluginResolver,
  tree: YamlTree,
  add: Add,
  root: Record<string, unknown>,
): Promise<(Omit<ComponentPlan, 'id'> & { id: string }) | undefined> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined // reported by the shape check
  const component = raw as Record<string, unknown>
  const use = component['use']
  if (typeof use !== 'string' || use === '') return undefined
  const resolved = await resolver.resolve(kind, use)
  if (!resolved.ok) {
    add(resolved.code, resolved.message, tree.position([...path, 'use']))
    return undefined
  }
  const definition = resolved.definition
  const { use: _use, id, ...rest } = component
  const options: Record<string, unknown> = { ...rest }
  let queue: QueueOptions | undefined
  let retry: RetryOptions | undefined
  if (kind === 'sink') {
    queue = options['queue'] as QueueOptions | undefined
    delete options['queue']
    // A sink whose own options have `retry` takes it (the webhook retries by HTTP status);
    // for any other sink it is the runtime's, checked here against its schema.
    if (!optionKeys(definition.options).includes('retry')) {
      if (options['retry'] !== undefined) {
        const checked = retrySchema.safeParse(options['retry'])
        if (!checked.success) {
          for (const issue of checked.error.issues) {
            shapeProblem({ ...issue, path: [...path, 'retry', ...issue.path] }, tree, root, add)
          }
          return undefined
        }
        retry = checked.data as RetryOptions
      }
      delete options['retry']
    }
  }
  try {
    validateOptions(definition, options)
  } catch (err) {
    if (!(err instanceof LogkitError) || err.code !== 'LOGKIT_ERR_OPTIONS_INVALID') throw err
    const issues = (err.details?.['issues'] ?? []) as OptionIssue[]
    for (const issue of issues) optionProblem(kind, use, definition, options, issue, path, tree, add)
    return undefined
  }
  return {
    kind,
    use,
    id: typeof id === 'string' ? id : definition.name,
    definition,
    options,
    ...(queue === undefined ? {} : { queue }),
    ...(retry === undefined ? {} : { retry }),
  }
}

function optionProblem(
  kind: Kind,
  use: string,
  definition: PluginDefinition,
  options: Record<string, unknown>,
  issue: OptionIssue,
  path: Path,
  tree: YamlTree,
  add: Add,
): void {
  const optionPath = [...issue.path]
  const label = `${kind} "${use}"`
  // zod reports unknown keys on the object: point at each key itself.
  if (issue.code === 'unrecognized_keys' && issue.keys !== undefined) {
    const keys = issue.keys
    const allowed = optionKeys(definition.options)
    for (const key of keys) {
      const hint = suggestion(key, allowed)
      add(
        'LOGKIT_ERR_MANIFEST_OPTION_INVALID',
        `${label}: unknown option "${[...optionPath, key].join('.')}"${hint || (allowed.length > 0 ? `: expected one of ${[...new Set([...allowed, 'id', ...(kind === 'sink' ? SINK_RUNTIME_KEYS : [])])].join(', ')}` : '')}`,
        tree.position([...path, ...optionPath, key], { key: true }),
      )
    }
    return
  }
  const exists = tree.has([...path, ...optionPath]) && lookup(options, optionPath) !== undefined
  const name = optionPath.join('.')
  if (tree.fromEnv.has([...path, ...optionPath].join('\0'))) {
    // The value came from the environment: it may be a secret, and messages may quote values.
    add(
      'LOGKIT_ERR_MANIFEST_OPTION_INVALID',
      `${label}: option "${name}": the value from the environment is not valid for it (value not shown)`,
      tree.position([...path, ...optionPath]),
    )
    return
  }
  if (!exists && optionPath.length > 0) {
    add(
      'LOGKIT_ERR_MANIFEST_OPTION_INVALID',
      `${label}: missing option "${name}": ${issue.message}`,
      tree.position([...path, ...optionPath.slice(0, -1)]),
    )
    return
  }
  add(
    'LOGKIT_ERR_MANIFEST_OPTION_INVALID',
    `${label}: ${name === '' ? 'options' : `option "${name}"`}: ${issue.message}`,
    tree.position([...path, ...optionPath]),
  )
}

/** The option names of a plugin's schema, looking through refinements and transforms. */
function optionKeys(schema: unknown, depth = 0): string[] {
  if (schema === null || typeof schema !== 'object' || depth > 8) return []
  const shape = (schema as { shape?: unknown }).shape
  if (shape !== null && typeof shape === 'object') return Object.keys(shape)
  const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def
  if (def === undefined) return []
  for (const inner of [def['in'], def['innerType'], def['schema']]) {
    const keys = optionKeys(inner, depth + 1)
    if (keys.length > 0) return keys
  }
  return []
}

/** Throws LOGKIT_ERR_MANIFEST_INVALID listing every problem, or returns the plan. */
export async function loadPlan(file: string, options: LoadOptions = {}): Promise<ManifestPlan> {
  const result = await loadManifest(file, options)
  if (result.plan === undefined) {
    throw cliError(
      'LOGKIT_ERR_MANIFEST_INVALID',
      result.problems.map((p) => formatProblem(file, p)).join('\n'),
      { details: { problems: result.problems } },
    )
  }
  return result.plan
}
