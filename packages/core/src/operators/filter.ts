// `filter`: keep the entries a manifest asks for, by level, app, source,
// message and field values. Every condition is compiled once, when the operator
// is made; the per-entry function checks the cheap conditions first and parses
// an entry's fields only when a `fields` condition needs them. In the
// collector it keeps rows of batches that are still bytes by the same
// conditions (BatchFilter), decoding only the message or fields a condition
// reads.

import { defer, type MonoTypeOperatorFunction } from 'rxjs'
import { z } from 'zod'
import type { LogEntry } from '../entry.js'
import { isLogkitError } from '../errors.js'
import { type LevelName, levelNames, parseLevel } from '../levels.js'
import { defineOperator, PLUGIN_API_VERSION } from '../plugin.js'
import { type EntryBatch, isEntryBatch } from '../wire/entry-batch.js'
import { SPAN_APP, SPAN_MESSAGE, SPAN_SOURCE } from '../wire/entry-index.js'
import { KeptRows, selectEach, takingBatches } from './batch-aware.js'
import { BatchFields, type FieldTest } from './batch-fields.js'
import { invalidOption } from './options.js'
import { SpanMemo } from './span-memo.js'

/**
 * A message pattern: a substring (`'healthcheck'`), a regular expression
 * written as a string (`'/^GET \\/health/i'`), or a RegExp.
 */
export type Pattern = string | RegExp

/** What a field must hold: a regular expression (as for Pattern), or a value it must equal. */
export type FieldCondition = string | number | boolean | null | RegExp

export interface FilterOptions {
  /** Lowest level kept: a name (`'info'`, any case) or a pino number (`30`). */
  readonly level?: LevelName | number | string
  /** Keep only entries whose message matches at least one of these. */
  readonly include?: Pattern | readonly Pattern[]
  /** Drop entries whose message matches any of these. */
  readonly exclude?: Pattern | readonly Pattern[]
  /**
   * Conditions on field values, all of which must hold, keyed by dotted path
   * (`'req.method'`). A regular expression (`'/^5\\d\\d$/'` or a RegExp) is
   * tested against a string, number or boolean value; anything else must equal
   * the value. A field that is absent matches nothing.
   */
  readonly fields?: Readonly<Record<string, FieldCondition>>
  /** Keep only entries of these apps; `*` matches any run of characters. */
  readonly app?: string | readonly string[]
  /** Keep only entries from these sources (modules); `*` matches any run of characters. */
  readonly source?: string | readonly string[]
}

type Test = (text: string) => boolean

const REGEX_LITERAL = /^\/(.+)\/([a-z]*)$/s

/** The RegExp a `/re/flags` string stands for; undefined when `text` is not written that way. */
function regexLiteral(text: string, option: string): RegExp | undefined {
  const match = REGEX_LITERAL.exec(text)
  if (match === null) return undefined
  // `g` and `y` make test() stateful (lastIndex); a filter must answer the same for the same input.
  const flags = (match[2] ?? '').replace(/[gy]/g, '')
  try {
    return new RegExp(match[1] ?? '', flags)
  } catch (error) {
    throw invalidOption(
      'filter',
      option,
      `${JSON.stringify(text)} is not a valid regular expression (${(error as Error).message}): fix it, or write the text without the enclosing slashes to match it as a substring`,
    )
  }
}

function stateless(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re
}

function compilePattern(pattern: Pattern, option: string): Test {
  if (pattern instanceof RegExp) {
    const re = stateless(pattern)
    return (text) => re.test(text)
  }
  const re = regexLiteral(pattern, option)
  if (re !== undefined) return (text) => re.test(text)
  return (text) => text.includes(pattern)
}

function compileAny(patterns: Pattern | readonly Pattern[], option: string): Test {
  const tests = (Array.isArray(patterns) ? patterns : [patterns]).map((p: Pattern, i: number) =>
    compilePattern(p, `${option}.${i}`),
  )
  if (tests.length === 1) return tests[0] as Test
  return (text) => tests.some((test) => test(text))
}

function compileNames(names: string | readonly string[], option: string): Test {
  const list: readonly string[] = typeof names === 'string' ? [names] : names
  if (list.length === 0) throw invalidOption('filter', option, 'expected at least one name')
  const exact = new Set(list.filter((name) => !name.includes('*')))
  const globs = list
    .filter((name) => name.includes('*'))
    .map((glob) => new RegExp(`^${glob.split('*').map(escapeRegex).join('.*')}$`, 's'))
  if (globs.length === 0) return (name) => exact.has(name)
  return (name) => exact.has(name) || globs.some((re) => re.test(name))
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
}

function compileField(path: string, condition: FieldCondition): FieldTest {
  const keys = path.split('.')
  const re =
    condition instanceof RegExp
      ? stateless(condition)
      : typeof condition === 'string'
        ? regexLiteral(condition, `fields.${path}`)
        : undefined
  if (re !== undefined) {
    return {
      keys,
      test(value) {
        const type = typeof value
        return (type === 'string' || type === 'number' || type === 'boolean') && re.test(String(value))
      },
    }
  }
  return { keys, equals: condition as string | number | boolean | null, test: (value) => value === condition }
}

function compileLevel(level: LevelName | number | string): number {
  try {
    return parseLevel(level)
  } catch (error) {
    if (isLogkitError(error, 'LOGKIT_ERR_LEVEL_UNKNOWN'))
      throw invalidOption('filter', 'level', error.message)
    throw error
  }
}

/**
 * The conditions of a FilterOptions, compiled once, one per value of an entry
 * (undefined: no condition on it). An entry is kept when every condition
 * holds; entries and batches ask the same conditions of the same values, the
 * cheapest first: numbers, then names, then the message, then (parsing) the
 * fields.
 */
interface FilterPlan {
  readonly minLevel: number | undefined
  readonly app: Test | undefined
  readonly source: Test | undefined
  /** Included (when `include` is given) and not excluded. */
  readonly message: Test | undefined
  /** Every `fields` condition (none: undefined). */
  readonly fields: readonly FieldTest[] | undefined
}

function compilePlan(options: FilterOptions): FilterPlan {
  const minLevel = options.level === undefined ? undefined : compileLevel(options.level)
  const app = options.app === undefined ? undefined : compileNames(options.app, 'app')
  const source = options.source === undefined ? undefined : compileNames(options.source, 'source')
  const include = options.include === undefined ? undefined : compileAny(options.include, 'include')
  const exclude = options.exclude === undefined ? undefined : compileAny(options.exclude, 'exclude')
  const fieldTests = Object.entries(options.fields ?? {}).map(([path, condition]) =>
    compileField(path, condition),
  )
  return {
    minLevel,
    app,
    source,
    message:
      include === undefined && exclude === undefined
        ? undefined
        : (msg) => (include === undefined || include(msg)) && (exclude === undefined || !exclude(msg)),
    fields: fieldTests.length === 0 ? undefined : fieldTests,
  }
}

function entryPredicate({
  minLevel,
  app,
  source,
  message,
  fields,
}: FilterPlan): (entry: LogEntry) => boolean {
  return (entry) =>
    (minLevel === undefined || entry.level >= minLevel) &&
    (app === undefined || app(entry.app)) &&
    (source === undefined || source(entry.source)) &&
    (message === undefined || message(entry.msg)) &&
    (fields === undefined || fields.every((field) => field.test(entry.fields.get(field.keys))))
}

/** The predicate a FilterOptions stands for, compiled once. */
export function compileFilter(options: FilterOptions): (entry: LogEntry) => boolean {
  return entryPredicate(compilePlan(options))
}

/**
 * The plan asked of a batch's rows: the level from its column, app and source
 * through a memo of their bytes (no decoding for a name seen before), the
 * message decoded only for a row that reaches its condition, and the fields
 * conditions last, on the rows left (BatchFields: the value at each path
 * found in the bytes, or the fields decoded as readEntry decodes them).
 */
class BatchFilter {
  readonly #plan: FilterPlan
  readonly #app: SpanMemo<boolean> | undefined
  readonly #source: SpanMemo<boolean> | undefined
  readonly #fields: BatchFields | undefined
  readonly #kept = new KeptRows()

  constructor(plan: FilterPlan) {
    this.#plan = plan
    this.#app = plan.app === undefined ? undefined : new SpanMemo(SPAN_APP, plan.app)
    this.#source = plan.source === undefined ? undefined : new SpanMemo(SPAN_SOURCE, plan.source)
    this.#fields = plan.fields === undefined ? undefined : new BatchFields(plan.fields)
  }

  select(batch: EntryBatch): EntryBatch | undefined {
    const { minLevel, message } = this.#plan
    const app = this.#app
    const source = this.#source
    const { index, rows, length } = batch
    const levels = index.level
    const kept = this.#kept.room(length)
    let n = 0
    for (let k = 0; k < length; k++) {
      const row = rows[k] as number
      if (minLevel !== undefined && !((levels[row] as number) >= minLevel)) continue
      if (app !== undefined && !app.get(index, row)) continue
      if (source !== undefined && !source.get(index, row)) continue
      if (message !== undefined && !message(index.text(row, SPAN_MESSAGE))) continue
      kept[n++] = row
    }
    if (this.#fields !== undefined && n > 0) n = this.#fields.keep(index, kept, n)
    return this.#kept.selection(batch, n)
  }
}

/**
 * Emits only the entries that meet every condition given: level at or above
 * `level`, `app` and `source` among the names given, message matching one of
 * `include` and none of `exclude`, and every `fields` condition holding.
 *
 * Conditions are compiled when the operator is made (a bad level or regular
 * expression throws LOGKIT_ERR_OPTIONS_INVALID then); fields are parsed only
 * for entries that reach a `fields` condition.
 *
 * In the collector it takes batches of entries that are still bytes
 * (EntryBatch, see markTakesBatches) and keeps their rows by the same
 * conditions, decoding only what a condition needs: the message for
 * `include`/`exclude`, the fields for `fields`.
 *
 * @example
 * ```ts
 * entries$.pipe(
 *   filter({ level: 'info', exclude: ['healthcheck', '/^GET \\/metrics/'], fields: { 'req.method': 'POST' } }),
 * )
 * ```
 *
 * @param options See FilterOptions; with no condition every entry passes.
 */
export function filter(options: FilterOptions = {}): MonoTypeOperatorFunction<LogEntry> {
  const plan = compilePlan(options)
  const keep = entryPredicate(plan)
  return takingBatches((source) =>
    defer(() => {
      const batches = new BatchFilter(plan)
      return source.pipe(
        selectEach((item) => (isEntryBatch(item) ? batches.select(item) : keep(item) ? item : undefined)),
      )
    }),
  )
}

function validRegexLiteral(text: string): boolean {
  try {
    regexLiteral(text, '')
    return true
  } catch {
    return false
  }
}

const patternSchema = z
  .string({ error: 'expected a substring or a regular expression written as "/re/flags"' })
  .refine(validRegexLiteral, {
    error: 'not a valid regular expression: fix it or drop the slashes to match a substring',
  })

const patternsSchema = z.union([patternSchema, z.array(patternSchema)], {
  error: 'expected a pattern or a list of patterns (substrings or "/re/flags")',
})

const namesSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'expected a name or a non-empty list of names (`*` matches any run of characters)',
})

const levelSchema = z
  .union([z.string(), z.number()], {
    error: `expected a level: ${levelNames.join(', ')} or a number from 0 to 100`,
  })
  .refine(
    (level) => {
      try {
        parseLevel(level)
        return true
      } catch {
        return false
      }
    },
    { error: `unknown level: expected one of ${levelNames.join(', ')} or a number from 0 to 100` },
  )

/** The manifest's `use: filter`. */
export const filterDefinition = defineOperator({
  name: 'filter',
  apiVersion: PLUGIN_API_VERSION,
  description: 'Keep entries by level, app, source, message patterns and field values.',
  options: z.strictObject({
    level: levelSchema.optional(),
    include: patternsSchema.optional(),
    exclude: patternsSchema.optional(),
    fields: z
      .record(
        z.string().min(1),
        z.union([patternSchema, z.number(), z.boolean(), z.null()], {
          error:
            'expected a value to equal (string, number, boolean, null) or a regular expression "/re/flags"',
        }),
      )
      .optional(),
    app: namesSchema.optional(),
    source: namesSchema.optional(),
  }),
  create: (options) => filter(options),
})
