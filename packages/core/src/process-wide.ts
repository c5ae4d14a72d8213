// State a thread must hold once, however many copies of the module that owns
// it are loaded. `@logkit/core/producer` and the transports' `/producer`
// entry points are bundles, each with its own copy of the modules inside;
// a process that loads a bundle beside the main entry point (a collector
// that also logs, the CLI, tests) has two copies of each module-level value.
// Where two copies would disagree (a lock registry, names handed out), the
// value lives on globalThis under a `Symbol.for` key, one per realm: each
// worker thread still has its own.

/** The value kept under `name`, made by `make` the first time any copy asks. */
export function processWide<T>(name: string, make: () => T): T {
  const slots = globalThis as unknown as Record<symbol, T | undefined>
  const key = Symbol.for(`logkit.${name}`)
  slots[key] ??= make()
  return slots[key]
}

/**
 * Whether `value` carries `brand` (a `Symbol.for` key its class defines as a
 * getter returning true): instanceof for a class of which two copies may be
 * loaded, each making instances the other must recognise.
 */
export function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
}
