// A tiny structural JSON Schema checker for the tests: the keywords schema.json
// uses (type, const, enum, properties, required, additionalProperties, items,
// minItems, minProperties, propertyNames, pattern, minLength, minimum, maximum,
// exclusiveMinimum, anyOf, oneOf, allOf, if/then/else, $ref into #/$defs). Enough to
// tell whether an editor would flag a manifest; not a general validator.

type Schema = Record<string, unknown> | boolean

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function typeMatches(expected: string, value: unknown): boolean {
  const actual = typeOf(value)
  return expected === actual || (expected === 'number' && actual === 'integer')
}

/** Problems found (paths); [] when the value fits. */
export function check(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  if (schema === true) return []
  if (schema === false) return [`${path}: not allowed`]
  const s = schema
  const problems: string[] = []
  const ref = s['$ref']
  if (typeof ref === 'string') {
    const name = ref.replace(/^#\/\$defs\//, '')
    const defs = (root as Record<string, unknown>)['$defs'] as Record<string, Schema> | undefined
    const target = defs?.[name]
    if (target === undefined) return [`${path}: unresolved ${ref}`]
    problems.push(...check(target, value, root, path))
  }
  const type = s['type']
  if (typeof type === 'string' && !typeMatches(type, value)) return [`${path}: expected ${type}`]
  if (Array.isArray(type) && !type.some((t) => typeMatches(String(t), value)))
    return [`${path}: expected ${type.join('|')}`]
  if ('const' in s && JSON.stringify(s['const']) !== JSON.stringify(value))
    problems.push(`${path}: expected const`)
  if (Array.isArray(s['enum']) && !s['enum'].some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    problems.push(`${path}: not in enum`)
  }
  if (typeof value === 'string') {
    if (typeof s['pattern'] === 'string' && !new RegExp(s['pattern'], 'u').test(value))
      problems.push(`${path}: pattern`)
    if (typeof s['minLength'] === 'number' && value.length < s['minLength'])
      problems.push(`${path}: too short`)
  }
  if (typeof value === 'number') {
    if (typeof s['minimum'] === 'number' && value < s['minimum']) problems.push(`${path}: below minimum`)
    if (typeof s['maximum'] === 'number' && value > s['maximum']) problems.push(`${path}: above maximum`)
    if (typeof s['exclusiveMinimum'] === 'number' && value <= s['exclusiveMinimum'])
      problems.push(`${path}: too small`)
  }
  if (Array.isArray(value)) {
    if (typeof s['minItems'] === 'number' && value.length < s['minItems'])
      problems.push(`${path}: too few items`)
    const items = s['items'] as Schema | undefined
    if (items !== undefined) {
      for (const [i, v] of value.entries()) problems.push(...check(items, v, root, `${path}[${i}]`))
    }
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>
    const properties = (s['properties'] ?? {}) as Record<string, Schema>
    if (typeof s['minProperties'] === 'number' && Object.keys(object).length < s['minProperties']) {
      problems.push(`${path}: too few properties`)
    }
    for (const key of (s['required'] ?? []) as string[])
      if (!(key in object)) problems.push(`${path}.${key}: required`)
    for (const [key, v] of Object.entries(object)) {
      if (s['propertyNames'] !== undefined)
        problems.push(...check(s['propertyNames'] as Schema, key, root, `${path}{${key}}`))
      const own = properties[key]
      if (own !== undefined) problems.push(...check(own, v, root, `${path}.${key}`))
      else if (s['additionalProperties'] !== undefined) {
        problems.push(...check(s['additionalProperties'] as Schema, v, root, `${path}.${key}`))
      }
    }
  }
  if (Array.isArray(s['allOf']))
    for (const sub of s['allOf'] as Schema[]) problems.push(...check(sub, value, root, path))
  if (
    Array.isArray(s['anyOf']) &&
    !(s['anyOf'] as Schema[]).some((sub) => check(sub, value, root, path).length === 0)
  ) {
    problems.push(`${path}: matches none of anyOf`)
  }
  if (Array.isArray(s['oneOf'])) {
    const matching = (s['oneOf'] as Schema[]).filter(
      (sub) => check(sub, value, root, path).length === 0,
    ).length
    if (matching !== 1) problems.push(`${path}: matches ${matching} of oneOf`)
  }
  if (s['if'] !== undefined) {
    const branch = check(s['if'] as Schema, value, root, path).length === 0 ? s['then'] : s['else']
    if (branch !== undefined) problems.push(...check(branch as Schema, value, root, path))
  }
  return problems
}
