// An entry's own fields, carried as the raw text of one JSON object. The text is
// parsed only when something asks for a value and stringified only when
// something built the fields from an object; an entry that nothing looks into
// goes from the wire to an NDJSON line without either (see format-json.ts).

import {
  JSON_EMPTY_OBJECT,
  JSON_INVALID,
  JSON_OBJECT,
  type JsonObjectShape,
  jsonObjectShape,
} from './format/json-check.js'
import { hasBrand } from './process-wide.js'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
export type FieldsObject = Readonly<Record<string, unknown>>

const EMPTY_TEXT = '{}'

/** Marks every Fields, whichever copy of core made it (see ERROR_BRAND in errors.ts). */
const FIELDS_BRAND = Symbol.for('logkit.Fields')

export class Fields {
  /**
   * `instanceof Fields` checks the brand: an entry made by the bundled
   * `@logkit/core/producer` and read by `@logkit/core` keeps its fields, not
   * wrapped as an object of fields. Its methods are its own copy's, so its
   * private state stays readable.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return hasBrand(value, FIELDS_BRAND)
  }

  /** On the prototype: nothing per instance. */
  get [FIELDS_BRAND](): true {
    return true
  }

  #json: string | undefined
  #value: FieldsObject | undefined
  #valid = true
  /** What the text is as a line's fields (format/json-check.ts); undefined until first asked. */
  #shape: JsonObjectShape | undefined

  private constructor(json: string | undefined, value: FieldsObject | undefined) {
    this.#json = json
    this.#value = value
  }

  /** No fields. */
  static readonly empty: Fields = Fields.#emptyFields()

  static #emptyFields(): Fields {
    const empty = new Fields(EMPTY_TEXT, Object.freeze({}))
    empty.#shape = JSON_EMPTY_OBJECT
    return empty
  }

  /**
   * Fields from the text of a JSON object, as it came off the wire. The text is
   * trusted to be one object; if it is not, `value` is `{}` and `valid` false.
   */
  static fromJSON(json: string): Fields {
    return json === '' || json === EMPTY_TEXT ? Fields.empty : new Fields(json, undefined)
  }

  /** Fields from an object; stringified lazily, once. */
  static of(value: FieldsObject): Fields {
    for (const _ in value) return new Fields(undefined, value)
    return Fields.empty
  }

  /** The JSON text of the object ('{}' when empty). */
  get json(): string {
    if (this.#json === undefined) this.#json = JSON.stringify(this.#value)
    return this.#json
  }

  /** The parsed object (parsed on first use and kept). */
  get value(): FieldsObject {
    if (this.#value === undefined) {
      try {
        const parsed: unknown = JSON.parse(this.#json as string)
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
          this.#value = parsed as FieldsObject
        } else {
          this.#valid = false
          this.#value = {}
        }
      } catch {
        this.#valid = false
        this.#value = {}
      }
    }
    return this.#value
  }

  /** False when the raw text turned out not to be a JSON object (checked on first `value`). */
  get valid(): boolean {
    if (this.#value === undefined) void this.value
    return this.#valid
  }

  /** True when there are no fields; never parses. */
  get isEmpty(): boolean {
    return this === Fields.empty || this.json === EMPTY_TEXT
  }

  /**
   * The object's members without the outer braces (`"a":1,"b":2`), for splicing
   * into a JSON line without a parse; '' when empty or when the text is not
   * braced like an object.
   */
  get members(): string {
    const json = this.json
    if (json.length <= 2 || json.charCodeAt(0) !== 123 || json.charCodeAt(json.length - 1) !== 125) return ''
    return json.slice(1, -1)
  }

  /**
   * True when the raw text is exactly one JSON object that fits on one line
   * (no raw control character anywhere, no text around it), so a JSON line
   * may splice it in as it is. Checked once by a byte scan, never parsed.
   * Fields that are not are written as the string `logkit_invalid_fields`
   * instead, never spliced.
   */
  get wellFormed(): boolean {
    return this.#lineShape() !== JSON_INVALID
  }

  /** True when the text is well-formed and has at least one member to splice. */
  get hasMembers(): boolean {
    return this.#lineShape() === JSON_OBJECT
  }

  #lineShape(): JsonObjectShape {
    if (this.#shape === undefined) this.#shape = jsonObjectShape(this.json)
    return this.#shape
  }

  /** The value at a dotted path (`req.headers.host`) or a path of keys; undefined when absent. */
  get(path: string | readonly string[]): unknown {
    const keys = typeof path === 'string' ? path.split('.') : path
    let at: unknown = this.value
    for (const key of keys) {
      // Own members only: `constructor` or `__proto__` in a path must not reach Object.prototype.
      if (at === null || typeof at !== 'object' || !Object.hasOwn(at, key)) return undefined
      at = (at as Record<string, unknown>)[key]
    }
    return at
  }

  toJSON(): FieldsObject {
    return this.value
  }
}
