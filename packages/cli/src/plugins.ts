// Plugin resolution: a manifest's `use:` → a plugin definition.
//
//   short name  shm, fifo, stdin      → @logkit/transport-NAME (stdin lives in transport-fifo)
//               file, webhook, …      → @logkit/sink-NAME; console is in core
//               nats (both kinds)     → @logkit/transport-nats
//               filter, rateLimit, …  → core's operators
//   package     @acme/logkit-sink-s3  → its default export (or definitions[…])
//   path        ./ops/mask.js         → the user's module, relative to the manifest
//
// Packages are resolved from the manifest's folder first, then from the CLI's
// own install, and loaded with import() of the resolved file. Nothing here
// starts anything: loading a plugin module must not do I/O beyond loading.

import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  type AnyOperatorDefinition,
  checkedDefinition,
  consoleSink,
  coreOperators,
  defineOperator,
  isPluginDefinition,
  PLUGIN_API_VERSION,
  type PluginDefinition,
  z,
} from '@logkit/core'
import { suggestion } from './did-you-mean.js'
import { type CliErrorCode, errorText } from './errors.js'

export type Kind = PluginDefinition['kind']

/** Short names and the package each lives in. */
export const shortNames: Readonly<Record<Kind, Readonly<Record<string, string>>>> = {
  source: {
    shm: '@logkit/transport-shm',
    fifo: '@logkit/transport-fifo',
    stdin: '@logkit/transport-fifo',
    pino: '@logkit/pino/pipeline',
    nats: '@logkit/transport-nats',
  },
  operator: Object.fromEntries(Object.keys(coreOperators).map((name) => [name, '@logkit/core'])),
  sink: {
    console: '@logkit/core',
    file: '@logkit/sink-file',
    http: '@logkit/sink-http',
    webhook: '@logkit/sink-webhook',
    nats: '@logkit/transport-nats',
  },
}

export type Resolved =
  | { readonly ok: true; readonly definition: PluginDefinition; readonly from: string }
  | { readonly ok: false; readonly code: CliErrorCode; readonly message: string }

export function isPathUse(use: string): boolean {
  return use.startsWith('./') || use.startsWith('../') || isAbsolute(use)
}

function isPackageUse(use: string): boolean {
  return use.startsWith('@') || use.includes('/') || use.startsWith('logkit-')
}

const fail = (code: CliErrorCode, message: string): Resolved => ({ ok: false, code, message })

/** The package a short name is looked up in: a known one, else @logkit/transport-NAME / @logkit/sink-NAME. */
function packageOf(kind: Kind, use: string): string {
  return shortNames[kind][use] ?? (kind === 'source' ? `@logkit/transport-${use}` : `@logkit/sink-${use}`)
}

export class PluginResolver {
  readonly #manifestDir: string
  readonly #modules = new Map<string, Promise<Record<string, unknown>>>()

  constructor(manifestDir: string) {
    this.#manifestDir = manifestDir
  }

  /** The file a package resolves to, from the manifest's folder, then from the CLI's install. */
  resolvePackage(name: string): string | undefined {
    for (const from of [join(this.#manifestDir, 'manifest.js'), import.meta.url]) {
      try {
        return createRequire(from).resolve(name)
      } catch {}
    }
    return undefined
  }

  #load(file: string): Promise<Record<string, unknown>> {
    let loaded = this.#modules.get(file)
    if (loaded === undefined) {
      loaded = import(pathToFileURL(file).href) as Promise<Record<string, unknown>>
      this.#modules.set(file, loaded)
    }
    return loaded
  }

  /**
   * The module a component's `use` loads (its package's main export, or the
   * user's file), for what a plugin exports beside its definitions (a sink's
   * `replay`); undefined when it is not installed or does not load.
   */
  async moduleOf(kind: Kind, use: string): Promise<Record<string, unknown> | undefined> {
    const file = isPathUse(use)
      ? resolve(this.#manifestDir, use)
      : this.resolvePackage(isPackageUse(use) ? use : packageOf(kind, use))
    if (file === undefined) return undefined
    return this.#load(file).catch(() => undefined)
  }

  async resolve(kind: Kind, use: string): Promise<Resolved> {
    if (isPathUse(use)) return this.#resolvePath(kind, use)
    const known = shortNames[kind]
    if (kind === 'operator' && Object.hasOwn(coreOperators, use)) {
      return { ok: true, definition: coreOperators[use as keyof typeof coreOperators], from: '@logkit/core' }
    }
    if (kind === 'sink' && use === 'console')
      return { ok: true, definition: consoleSink, from: '@logkit/core' }
    if (!isPackageUse(use)) {
      const pkg = known[use]
      if (pkg !== undefined) return this.#resolvePackageDefinition(kind, pkg, use)
      for (const other of ['source', 'operator', 'sink'] as const) {
        if (other !== kind && shortNames[other][use] !== undefined) {
          return fail(
            'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN',
            `"${use}" is a ${other}, not a ${kind}: move it to the ${other}s list`,
          )
        }
      }
      const hint = suggestion(use, Object.keys(known))
      if (kind === 'operator' || hint !== '') {
        const list = Object.keys(known).join(', ')
        return fail(
          'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN',
          `unknown ${kind} "${use}"${hint || `: expected one of ${list}, a package name or a ./path to your own module`}`,
        )
      }
      return this.#resolvePackageDefinition(kind, packageOf(kind, use), use)
    }
    return this.#resolvePackageDefinition(kind, use, undefined)
  }

  async #resolvePackageDefinition(kind: Kind, pkg: string, shortName: string | undefined): Promise<Resolved> {
    const file = this.resolvePackage(pkg)
    const label = shortName ?? pkg
    if (file === undefined) {
      // A subpath (`@logkit/pino/pipeline`) is installed with its package.
      const install = pkg
        .split('/')
        .slice(0, pkg.startsWith('@') ? 2 : 1)
        .join('/')
      return fail(
        'LOGKIT_ERR_MANIFEST_PLUGIN_MISSING',
        `${kind} "${label}" needs ${install}: npm install ${install}`,
      )
    }
    let mod: Record<string, unknown>
    try {
      mod = await this.#load(file)
    } catch (err) {
      return fail(
        'LOGKIT_ERR_MANIFEST_PLUGIN_INVALID',
        `${kind} "${label}": ${pkg} failed to load (${errorText(err)}): reinstall it, or check its version against @logkit/core`,
      )
    }
    const definitions = mod['definitions'] as Record<string, unknown> | undefined
    const candidates: unknown[] = []
    if (shortName !== undefined) candidates.push(definitions?.[shortName])
    candidates.push(mod['default'])
    if (shortName === undefined && definitions !== undefined) candidates.push(...Object.values(definitions))
    const definition = candidates.find((c) => isPluginDefinition(c, kind))
    if (definition === undefined) {
      return fail(
        'LOGKIT_ERR_MANIFEST_PLUGIN_INVALID',
        `${kind} "${label}": ${pkg} exports no ${kind} definition${shortName === undefined ? '' : ` named "${shortName}"`}: is it a logkit ${kind} plugin?`,
      )
    }
    return checked(definition as PluginDefinition, `${kind} "${label}": ${pkg}`, pkg)
  }

  async #resolvePath(kind: Kind, use: string): Promise<Resolved> {
    const file = resolve(this.#manifestDir, use)
    if (!existsSync(file)) {
      return fail('LOGKIT_ERR_MANIFEST_PLUGIN_MISSING', `${kind} "${use}": no such file (looked for ${file})`)
    }
    let mod: Record<string, unknown>
    try {
      mod = await this.#load(file)
    } catch (err) {
      return fail(
        'LOGKIT_ERR_MANIFEST_PLUGIN_INVALID',
        `${kind} "${use}" failed to load: ${errorText(err)}${moduleKindHint(file, err)}`,
      )
    }
    const exported = mod['default']
    if (isPluginDefinition(exported, kind)) return checked(exported, `${kind} "${use}"`, file)
    if (kind === 'operator' && typeof exported === 'function' && !isPluginDefinition(exported)) {
      return { ok: true, definition: wrapOperatorFactory(exported as OperatorFactory, use), from: file }
    }
    const expected =
      kind === 'operator'
        ? 'an operator factory (options) => OperatorFunction, or a definition made with defineOperator'
        : `a ${kind} definition made with define${kind === 'source' ? 'Source' : 'Sink'}`
    return fail(
      'LOGKIT_ERR_MANIFEST_PLUGIN_INVALID',
      `${kind} "${use}": its default export must be ${expected}`,
    )
  }
}

/**
 * Why a .js file may not load: Node reads it as the module kind its
 * package.json's "type" says (`npm init -y` writes commonjs), whatever syntax
 * it is written in.
 */
function moduleKindHint(file: string, err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  if (!file.endsWith('.js')) return ''
  if (
    /Cannot use import statement outside a module|Unexpected token 'export'|Cannot require\(\) ES Module/.test(
      text,
    )
  ) {
    return ': the file is written as an ES module (import/export) but Node loads it as CommonJS, because the nearest package.json has no "type": "module" (npm init -y writes "type": "commonjs"): name the file .mjs, or set "type": "module"'
  }
  if (/require is not defined in ES module scope|module is not defined in ES module scope/.test(text)) {
    return ': the file is written as CommonJS (require/module.exports) but Node loads it as an ES module, because the nearest package.json has "type": "module": name the file .cjs'
  }
  return ''
}

const checkedDefinitions = new WeakMap<PluginDefinition, PluginDefinition>()

/** A definition a module exported, its options schema and plugin API checked (checkedDefinition), or what is wrong with it. */
function checked(definition: PluginDefinition, label: string, from: string): Resolved {
  try {
    // One checked definition per exported one: the manifest tells components apart by their definition.
    let made = checkedDefinitions.get(definition)
    if (made === undefined) {
      made = checkedDefinition(definition)
      checkedDefinitions.set(definition, made)
    }
    return { ok: true, definition: made, from }
  } catch (err) {
    // checkedDefinition says which kind and name; the manifest's line says where.
    const message =
      err instanceof Error ? err.message.replace(/^(source|operator|sink) "[^"]*": /, '') : String(err)
    return fail('LOGKIT_ERR_MANIFEST_PLUGIN_INVALID', `${label}: ${message}`)
  }
}

// biome-ignore lint/suspicious/noExplicitAny: a user's operator factory may take and return anything
type OperatorFactory = (options: Record<string, unknown>) => any

/**
 * A plain operator factory `(options) => OperatorFunction` as a definition
 * with a permissive schema. The factory is called once at validation (operator
 * factories are pure) to check that it returns an operator.
 */
export function wrapOperatorFactory(factory: OperatorFactory, use: string): AnyOperatorDefinition {
  const options = z.looseObject({}).superRefine((value, ctx) => {
    let made: unknown
    try {
      made = factory(value)
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `the operator factory threw: ${errorText(err)}` })
      return
    }
    if (typeof made !== 'function') {
      ctx.addIssue({
        code: 'custom',
        message: `the operator factory returned ${made === null ? 'null' : typeof made}, expected an RxJS operator function`,
      })
    }
  })
  return defineOperator({
    name: basename(use).replace(/\.[cm]?[jt]s$/, ''),
    apiVersion: PLUGIN_API_VERSION,
    description: `Your operator from ${use}.`,
    options,
    create: (opts) => factory(opts as Record<string, unknown>),
  })
}
