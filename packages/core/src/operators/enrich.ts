// `enrich`: add what the producers did not say: static fields, the collector's
// hostname, an app or source name. Static fields are merged without a parse
// whenever the entry's own JSON text shows that no key can collide; only a
// possible collision parses the entry's fields to merge them properly.

import { hostname as osHostname } from 'node:os'
import { type MonoTypeOperatorFunction, map } from 'rxjs'
import { z } from 'zod'
import type { LogEntry } from '../entry.js'
import { Fields, type FieldsObject } from '../fields.js'
import { defineOperator, PLUGIN_API_VERSION } from '../plugin.js'

export interface EnrichOptions {
  /** Fields added to every entry; an entry's own field of the same name wins unless `override`. */
  readonly fields?: FieldsObject | undefined
  /** Set `hostname`: `true` for this machine's (os.hostname()), or a name. */
  readonly hostname?: boolean | string | undefined
  /** Set `app`. */
  readonly app?: string | undefined
  /** Set `source`. */
  readonly source?: string | undefined
  /** Replace the entry's own values (and fields of the same name) instead of only filling in what is empty. Default false. */
  readonly override?: boolean | undefined
}

type Merge = (own: Fields) => Fields

/** How static fields join an entry's own; computed once. */
function fieldsMerger(extra: FieldsObject, override: boolean): Merge | undefined {
  const added = Fields.of(extra)
  if (added.isEmpty) return undefined
  const addedMembers = added.members
  // Each added key as it appears in JSON text (a key may be followed by spaces before its colon).
  const keyNeedles = Object.keys(extra).map((key) => JSON.stringify(key))
  return (own) => {
    if (own.isEmpty) return added
    const json = own.json
    const ownMembers = own.members
    // No escapes and no added key anywhere in the text: no key can collide, so the members can be spliced.
    if (ownMembers !== '' && !json.includes('\\') && !keyNeedles.some((needle) => json.includes(needle))) {
      return Fields.fromJSON(override ? `{${ownMembers},${addedMembers}}` : `{${addedMembers},${ownMembers}}`)
    }
    return Fields.of(override ? { ...own.value, ...extra } : { ...extra, ...own.value })
  }
}

/**
 * Adds static `fields` to every entry and sets `hostname`, `app` and `source`
 * where the entry's are empty. With `override`, the given values replace the
 * entry's own (fields of the same name included). An entry with nothing to
 * change is emitted as it came (the same object). Fields are parsed only when
 * `fields` is given and the entry's own may share a key with them.
 *
 * @example
 * ```ts
 * entries$.pipe(enrich({ hostname: true, app: 'shop', fields: { region: 'eu-west-1' } }))
 * ```
 *
 * @param options See EnrichOptions.
 */
export function enrich({
  fields,
  hostname,
  app,
  source,
  override = false,
}: EnrichOptions = {}): MonoTypeOperatorFunction<LogEntry> {
  const merge = fields === undefined ? undefined : fieldsMerger(fields, override)
  const host =
    hostname === true ? osHostname() : typeof hostname === 'string' && hostname !== '' ? hostname : undefined
  const name = app === '' ? undefined : app
  const src = source === '' ? undefined : source
  const set = (own: string, given: string | undefined): boolean =>
    given !== undefined && own !== given && (override || own === '')

  return map((entry) => {
    const setHost = set(entry.hostname, host)
    const setApp = set(entry.app, name)
    const setSource = set(entry.source, src)
    if (merge === undefined && !setHost && !setApp && !setSource) return entry
    return {
      ...entry,
      ...(setHost ? { hostname: host } : undefined),
      ...(setApp ? { app: name } : undefined),
      ...(setSource ? { source: src } : undefined),
      ...(merge === undefined ? undefined : { fields: merge(entry.fields) }),
    } as LogEntry
  })
}

/** The manifest's `use: enrich`. */
export const enrichDefinition = defineOperator({
  name: 'enrich',
  apiVersion: PLUGIN_API_VERSION,
  description: 'Add static fields and set hostname, app and source where missing (or always, with override).',
  options: z.strictObject({
    fields: z
      .record(z.string(), z.json(), { error: 'expected an object of fields, e.g. { region: "eu-west-1" }' })
      .optional(),
    hostname: z
      .union([z.boolean(), z.string().min(1)], {
        error: "expected true (this machine's name) or a host name",
      })
      .optional(),
    app: z
      .string({ error: 'expected an app name' })
      .min(1, { error: 'expected a non-empty app name' })
      .optional(),
    source: z
      .string({ error: 'expected a source name' })
      .min(1, { error: 'expected a non-empty source name' })
      .optional(),
    override: z.boolean({ error: 'expected true or false' }).optional(),
  }),
  create: (options) => enrich(options),
})
