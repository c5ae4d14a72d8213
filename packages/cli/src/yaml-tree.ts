// The manifest's YAML as plain values, with ${VAR} interpolation, and the way
// back from a path in those values to a line and column in the file.
//
// Interpolation happens on the parsed tree, scalar by scalar, so that an
// error names the exact scalar and so that an environment value can never
// change the manifest's structure. A plain (unquoted) scalar whose interpolated
// text is a number or a boolean becomes one (`perSecond: ${RATE:-100}`).
// Values from the environment never appear in any message: only names do.

import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, Scalar } from 'yaml'
import type { CliErrorCode } from './errors.js'

export type Path = readonly (string | number)[]

export interface Position {
  readonly line: number
  readonly col: number
}

export interface TreeProblem {
  readonly code: CliErrorCode
  readonly message: string
  readonly position: Position
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$\{([^}]*)\}?/g

export type Env = Readonly<Record<string, string | undefined>>

/** Interpolate one string; missing names are pushed to `missing`, bad references to `bad`. */
export function interpolate(text: string, env: Env, missing: string[], bad: string[]): string {
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined, other) => {
    if (match === '$${') return '${'
    if (name === undefined) {
      bad.push(String(other ?? match))
      return ''
    }
    const value = env[name]
    const hasDefault = fallback !== undefined
    // ${VAR:-default} uses the default when VAR is unset or empty; ${VAR-default} only when unset.
    const colon = match.includes(':-')
    if (value === undefined || (colon && value === '')) {
      if (hasDefault) return fallback
      if (value === undefined) missing.push(name)
      return value ?? ''
    }
    return value
  })
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/

export class YamlTree {
  readonly #doc: Document
  readonly #lines: LineCounter
  readonly problems: TreeProblem[] = []
  /** Paths (joined with \0) of values that came from the environment. */
  readonly fromEnv = new Set<string>()

  constructor(doc: Document, lines: LineCounter) {
    this.#doc = doc
    this.#lines = lines
  }

  positionOfOffset(offset: number): Position {
    const { line, col } = this.#lines.linePos(offset)
    return { line, col }
  }

  /** The document as plain values, interpolated. */
  toValue(env: Env): unknown {
    return this.#value(this.#doc.contents as Node | null, env, [], 0)
  }

  #value(node: Node | null | undefined, env: Env, path: (string | number)[], depth: number): unknown {
    if (node === null || node === undefined) return null
    if (depth > 64) return null
    if (isAlias(node)) return this.#value(node.resolve(this.#doc) as Node | undefined, env, path, depth + 1)
    if (isScalar(node)) {
      const value = node.value
      if (typeof value !== 'string' || !value.includes('$')) return value
      const missing: string[] = []
      const bad: string[] = []
      const text = interpolate(value, env, missing, bad)
      const position = this.positionOfOffset(node.range?.[0] ?? 0)
      for (const name of missing) {
        this.problems.push({
          code: 'LOGKIT_ERR_MANIFEST_ENV_MISSING',
          message: `environment variable ${name} is not set: set it, or give a default as \${${name}:-default}`,
          position,
        })
      }
      for (const ref of bad) {
        this.problems.push({
          code: 'LOGKIT_ERR_MANIFEST_TYPE',
          message: `"\${${ref}}" is not a variable reference: expected \${NAME} or \${NAME:-default} (write $\${ for a literal \${)`,
          position,
        })
      }
      if (text !== value) this.fromEnv.add(path.join('\0'))
      if (node.type === Scalar.PLAIN && text !== value) {
        if (NUMBER.test(text)) return Number(text)
        if (text === 'true' || text === 'false') return text === 'true'
      }
      return text
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {}
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key)
        if (key === '<<') continue
        out[key] = this.#value(pair.value as Node | null, env, [...path, key], depth + 1)
      }
      return out
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => this.#value(item as Node | null, env, [...path, i], depth + 1))
    }
    return null
  }

  /**
   * The position of `path`: of its value (or of its key when `key` is true).
   * A path that does not exist in the file points at the deepest part that does.
   */
  position(path: Path, { key = false }: { key?: boolean } = {}): Position {
    let node: Node | null | undefined = this.#doc.contents as Node | null
    let keyNode: Node | undefined
    let lastGood: Node | undefined = node ?? undefined
    for (let i = 0; i < path.length; i++) {
      const segment = path[i]
      while (node !== null && node !== undefined && isAlias(node))
        node = node.resolve(this.#doc) as Node | undefined
      let next: Node | null | undefined
      keyNode = undefined
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment),
        )
        if (pair !== undefined) {
          keyNode = pair.key as Node
          next = pair.value as Node | null
          // `key:` with no value has no value node: point at the key.
          if (next === null || next === undefined || next.range === undefined) next = keyNode
        }
      } else if (isSeq(node) && typeof segment === 'number') {
        next = node.items[segment] as Node | undefined
      }
      if (next === null || next === undefined) break
      node = next
      lastGood = node
      if (key && i === path.length - 1 && keyNode !== undefined) lastGood = keyNode
    }
    const offset = lastGood?.range?.[0] ?? 0
    return this.positionOfOffset(offset)
  }

  /** True when `path` exists in the file. */
  has(path: Path): boolean {
    let node: unknown = this.#doc.contents
    for (const segment of path) {
      while (isAlias(node)) node = node.resolve(this.#doc)
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment),
        )
        if (pair === undefined) return false
        node = pair.value
      } else if (isSeq(node) && typeof segment === 'number') {
        if (segment >= node.items.length) return false
        node = node.items[segment]
      } else {
        return false
      }
    }
    return true
  }
}
