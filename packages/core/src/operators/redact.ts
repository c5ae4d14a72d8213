// `redact`: censor or remove values in entries' fields by path, as pino's
// `redact` option does. Paths are parsed once. Per entry, the raw JSON is first
// searched for the top-level keys the paths start with, so an entry that
// cannot match is passed on without a parse; an entry that can is parsed and
// only the branches touched are copied: the parsed object may be shared with
// other subscribers (share() in the runtime) and is never changed.

import type { MonoTypeOperatorFunction } from 'rxjs'
import { z } from 'zod'
import type { DiagnosticReporter } from '../diagnostics.js'
import type { LogEntry } from '../entry.js'
import { LogkitError } from '../errors.js'
import { Fields } from '../fields.js'
import { defineOperator, PLUGIN_API_VERSION } from '../plugin.js'
import { mapOrDrop } from './map-or-drop.js'

/** Replaces a matched value; gets the value and the concrete path to it (wildcards resolved). */
export type Censor = string | ((value: unknown, path: readonly string[]) => unknown)

export interface RedactOptions {
  /**
   * Where the values are, in `fields`: `password`, `req.headers.authorization`,
   * `a["b-c"].d`, `users[0].email`, `users[*].email`, `*.secret`. A `*` matches
   * every key or index at its level.
   */
  readonly paths: readonly string[]
  /** What replaces a value: a string, or a function of the value and its path. Default `'[Redacted]'`. */
  readonly censor?: Censor
  /** Remove the key instead of censoring it (an array item removed reads as null in JSON). Default false. */
  readonly remove?: boolean
  /** Told of each entry dropped because it could not be redacted (fields not JSON, censor threw). */
  readonly report?: DiagnosticReporter | undefined
}

/** A path segment: a key (array indices are keys too), or `*`. */
export const WILDCARD: unique symbol = Symbol('redact.wildcard')
export type PathSegment = string | typeof WILDCARD

const IDENT_END = /[.[\]"'\s]/

function pathError(path: string, index: number, what: string): LogkitError {
  return new LogkitError(
    'LOGKIT_ERR_REDACT_PATH',
    `redact path ${JSON.stringify(path)}: ${what} at position ${index}: write paths as a.b, a["b-c"], a[0], a[*] or *.b`,
    { details: { path, index } },
  )
}

/**
 * `'a["b-c"][*].d'` → `['a', 'b-c', WILDCARD, 'd']`. Throws
 * LOGKIT_ERR_REDACT_PATH for anything else.
 */
export function parseRedactPath(path: string): PathSegment[] {
  const segments: PathSegment[] = []
  let i = 0
  const n = path.length
  if (n === 0) throw pathError(path, 0, 'the path is empty')
  let expectIdent = path[0] !== '['
  while (i < n) {
    if (expectIdent) {
      let end = i
      while (end < n && !IDENT_END.test(path[end] as string)) end++
      if (end === i) throw pathError(path, i, `expected a key, found ${JSON.stringify(path[i] ?? '')}`)
      const ident = path.slice(i, end)
      segments.push(ident === '*' ? WILDCARD : ident)
      i = end
      expectIdent = false
      continue
    }
    const ch = path[i]
    if (ch === '.') {
      if (i + 1 >= n) throw pathError(path, i, 'the path ends with a dot')
      i++
      expectIdent = true
    } else if (ch === '[') {
      i = parseBracket(path, i + 1, segments)
    } else {
      throw pathError(path, i, `expected ".", "[" or the end, found ${JSON.stringify(ch)}`)
    }
  }
  return segments
}

/** Parses what follows a `[` at `i`, pushes the segment, returns the index after the `]`. */
function parseBracket(path: string, i: number, segments: PathSegment[]): number {
  const ch = path[i]
  if (ch === '"' || ch === "'") {
    let key = ''
    let j = i + 1
    while (j < path.length && path[j] !== ch) {
      if (path[j] === '\\') j++
      if (j >= path.length) break
      key += path[j]
      j++
    }
    if (j >= path.length) throw pathError(path, i, 'unterminated quoted key')
    if (path[j + 1] !== ']') throw pathError(path, j + 1, 'expected "]" after the quoted key')
    segments.push(key)
    return j + 2
  }
  const close = path.indexOf(']', i)
  if (close === -1) throw pathError(path, i - 1, 'unterminated "["')
  const inner = path.slice(i, close)
  if (inner === '*') segments.push(WILDCARD)
  else if (/^\d+$/.test(inner)) segments.push(String(Number(inner)))
  else
    throw pathError(
      path,
      i,
      `expected an index, "*" or a quoted key inside [], found ${JSON.stringify(inner)}`,
    )
  return close + 1
}

type Node = Record<string, unknown> | unknown[]

interface Pass {
  /** Nodes copied during this entry: written in place from then on. */
  readonly copies: Set<Node>
  readonly path: string[]
}

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object'
}

function writable(node: Node, pass: Pass): Node {
  if (pass.copies.has(node)) return node
  const copy: Node = Array.isArray(node) ? node.slice() : { ...node }
  pass.copies.add(copy)
  return copy
}

class InvalidFieldsError extends Error {}

/**
 * Replaces (or removes) values in entries' fields at the given paths, the way
 * pino's `redact` does. Entries whose fields have none of the paths are
 * emitted as they came (the same object); others as a copy with new fields.
 * The fields object of the incoming entry is never changed. An entry that
 * cannot be redacted (fields not a JSON object, censor function threw) is
 * dropped and reported rather than let through.
 *
 * @example
 * ```ts
 * entries$.pipe(redact({ paths: ['password', 'req.headers.authorization', 'users[*].email'] }))
 * // fields {"password":"hunter2","user":"ann"} → {"password":"[Redacted]","user":"ann"}
 * ```
 *
 * @param options `paths` (parsed now: a bad one throws LOGKIT_ERR_REDACT_PATH),
 * `censor` (default `'[Redacted]'`), `remove` (default false), `report`.
 */
export function redact({
  paths,
  censor = '[Redacted]',
  remove = false,
  report,
}: RedactOptions): MonoTypeOperatorFunction<LogEntry> {
  const parsed = paths.map(parseRedactPath)
  // Top-level keys as they appear in JSON text; undefined when a path starts with `*` (anything may match).
  const needles = parsed.some((p) => p[0] === WILDCARD)
    ? undefined
    : [...new Set(parsed.map((p) => JSON.stringify(p[0])))]
  const replace = typeof censor === 'function' ? censor : () => censor

  const apply = (node: Node, segments: PathSegment[], depth: number, pass: Pass): Node => {
    const segment = segments[depth] as PathSegment
    const last = depth === segments.length - 1
    const keys =
      segment !== WILDCARD
        ? Object.hasOwn(node, segment)
          ? [segment]
          : []
        : Array.isArray(node)
          ? node.map((_, i) => String(i))
          : Object.keys(node)
    let out = node
    for (const key of keys) {
      const child = (out as Record<string, unknown>)[key]
      pass.path.push(key)
      if (last) {
        out = writable(out, pass)
        if (remove) delete (out as Record<string, unknown>)[key]
        else (out as Record<string, unknown>)[key] = replace(child, [...pass.path])
      } else if (isNode(child)) {
        const next = apply(child, segments, depth + 1, pass)
        if (next !== child) {
          out = writable(out, pass)
          ;(out as Record<string, unknown>)[key] = next
        }
      }
      pass.path.pop()
    }
    return out
  }

  const redactEntry = (entry: LogEntry): LogEntry => {
    const fields = entry.fields
    if (fields.isEmpty) return entry
    if (needles !== undefined) {
      // An escaped key (`"\u0070assword"`) would hide from a text search: such entries are always parsed.
      const json = fields.json
      if (!json.includes('\\') && !needles.some((needle) => json.includes(needle))) return entry
    }
    const value = fields.value
    if (!fields.valid) throw new InvalidFieldsError('fields are not a JSON object')
    const pass: Pass = { copies: new Set(), path: [] }
    let out = value as Node
    for (const segments of parsed) out = apply(out, segments, 0, pass)
    return out === value ? entry : { ...entry, fields: Fields.of(out as Record<string, unknown>) }
  }

  return mapOrDrop(redactEntry, (error) =>
    report?.({
      code: error instanceof InvalidFieldsError ? 'fields_invalid' : 'redact_failed',
      message: `redact could not redact an entry (${(error as Error)?.message ?? String(error)}); it was dropped so that nothing unredacted goes through`,
      count: 1,
    }),
  )
}

function validPath(path: string): boolean {
  try {
    parseRedactPath(path)
    return true
  } catch {
    return false
  }
}

/** The manifest's `use: redact`. */
export const redactDefinition = defineOperator({
  name: 'redact',
  apiVersion: PLUGIN_API_VERSION,
  description: 'Censor or remove values in fields by path (pino redact paths, with * wildcards).',
  options: z.strictObject({
    paths: z
      .array(
        z
          .string({ error: 'expected a path such as "req.headers.authorization"' })
          .refine(validPath, { error: 'not a redact path: write paths as a.b, a["b-c"], a[0], a[*] or *.b' }),
        { error: 'expected a list of paths, e.g. ["password", "req.headers.authorization"]' },
      )
      .min(1, { error: 'expected at least one path' }),
    censor: z.string({ error: 'expected the text that replaces a value, e.g. "[Redacted]"' }).optional(),
    remove: z.boolean({ error: 'expected true or false' }).optional(),
  }),
  create: (options, ctx) => redact({ ...options, report: ctx.report }),
})
