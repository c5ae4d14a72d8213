// The checks every package's own package.test.ts runs: workspace hoisting
// hides undeclared dependencies, so a source file that imports a package
// package.json does not declare would work here and fail for a user.

import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'
import type { Test } from 'tap'

function files(root: string, dir: string): string[] {
  let entries: import('node:fs').Dirent[]
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true })
  } catch {
    return []
  }
  return entries.flatMap((d) =>
    d.isDirectory()
      ? d.name === 'node_modules'
        ? []
        : files(root, join(dir, d.name))
      : /\.(ts|mts|js|mjs)$/.test(d.name)
        ? [join(dir, d.name)]
        : [],
  )
}

/** The specifiers of a file's static imports and re-exports, as written (single quotes in ours, double in esbuild's bundles). */
function importSpecifiers(path: string): string[] {
  const text = readFileSync(path, 'utf8')
  return [
    ...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+(['"])([^'"]+)\1|^import\s+(['"])([^'"]+)\3/gm),
  ].map((m) => (m[2] ?? m[4]) as string)
}

/** The package names a file imports (bare specifiers, without node: built-ins). */
export function importedPackages(path: string): string[] {
  return importSpecifiers(path)
    .filter((name) => !name.startsWith('.') && !name.startsWith('/') && !name.startsWith('node:'))
    .map((name) =>
      name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : (name.split('/')[0] as string),
    )
}

/**
 * The bare specifiers (`zod`, `@logkit/core/producer`, …) a built module
 * loads when imported, following its relative imports and the files of
 * @logkit packages it imports (their own imports included). Static imports
 * only: what a process pays for at start-up.
 */
export function packagesLoadedBy(file: string): Set<string> {
  return staticallyLoadedBy(file).packages
}

/**
 * The node: built-ins a built module loads when imported, found as
 * packagesLoadedBy finds packages. Some (zlib, crypto, net, child_process)
 * cost a worker's start-up as much as a package does.
 */
export function builtinsLoadedBy(file: string): Set<string> {
  return staticallyLoadedBy(file).builtins
}

/**
 * The files of modules a built module loads when imported: itself, the files
 * its relative imports name and those of the @logkit packages it imports,
 * found as packagesLoadedBy finds packages. Node's ESM loader pays per module,
 * so a worker's entry points should be one file each.
 */
export function modulesLoadedBy(file: string): Set<string> {
  return staticallyLoadedBy(file).modules
}

/** The file a package's exports map gives for `subpath` (`.`, `./producer`). */
export function exportedFile(packageRoot: string, subpath: string): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
  const target = pkg.exports?.[subpath]
  return join(packageRoot, typeof target === 'string' ? target : target.default)
}

function staticallyLoadedBy(file: string): {
  packages: Set<string>
  builtins: Set<string>
  modules: Set<string>
} {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const builtins = new Set<string>()
  const visit = (path: string) => {
    if (seen.has(path)) return
    seen.add(path)
    for (const spec of importSpecifiers(path)) {
      if (spec.startsWith('node:')) builtins.add(spec)
      else if (spec.startsWith('.')) visit(join(dirname(path), spec))
      else {
        packages.add(spec)
        if (spec.startsWith('@logkit/')) visit(createRequire(path).resolve(spec))
      }
    }
  }
  visit(file)
  return { packages, builtins, modules: seen }
}

/** `file: package` for every import under `dir` of a package not in `declared`. */
export function undeclaredImports(packageRoot: string, dir: string, declared: ReadonlySet<string>): string[] {
  return files(packageRoot, dir).flatMap((f) =>
    importedPackages(join(packageRoot, f))
      .filter((n) => !declared.has(n))
      .map((n) => `${f}: ${n}`),
  )
}

/**
 * Runs the standard package checks as subtests: src/ imports only dependencies
 * and peers; test/ imports only those and dev dependencies; the exports map
 * lists `types` before `default` (pino resolves targets with require.resolve,
 * which an import-only map fails).
 */
export async function packageChecks(t: Test, packageRoot: string): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'))
  const runtime = new Set<string>([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ])
  const all = new Set<string>([pkg.name, ...runtime, ...Object.keys(pkg.devDependencies ?? {})])
  await t.test('every package a source file imports is a dependency or peer dependency', async (t) => {
    t.same(undeclaredImports(packageRoot, 'src', runtime), [], 'no undeclared imports in src/')
  })
  await t.test('every package a test imports is declared, dev dependencies included', async (t) => {
    t.same(undeclaredImports(packageRoot, 'test', all), [], 'no undeclared imports in test/')
  })
  await t.test('the exports map lists types before default', async (t) => {
    for (const [key, value] of Object.entries((pkg.exports ?? {}) as Record<string, unknown>)) {
      if (typeof value === 'string') continue
      t.same(Object.keys(value as object), ['types', 'default'], `${key}: conditions are types, then default`)
    }
  })
}

/**
 * A transport's `/producer` entry point is the bundle its build makes, and
 * loads one file beside it: @logkit/core/producer's bundle, kept outside so a
 * process holds one copy of core (Node's ESM loader pays per module a worker loads).
 */
export function transportProducerBundleCheck(t: Test, packageRoot: string): void {
  t.test('the producer entry point is one module beside core’s: Node’s ESM loader pays per module', (t) => {
    const producer = exportedFile(packageRoot, './producer')
    t.equal(producer, join(packageRoot, 'dist/producer.bundle.js'), 'the exports map points at the bundle')
    const files = [...modulesLoadedBy(producer)].map((file) => file.replace(/.*\/packages\//, ''))
    t.same(
      files,
      [`${basename(packageRoot)}/dist/producer.bundle.js`, 'core/dist/producer.bundle.js'],
      'its own bundle and @logkit/core/producer, kept outside it so a process has one copy of core',
    )
    t.end()
  })
}
