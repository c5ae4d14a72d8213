// What the chat presets (slack, discord) show of an entry, and how they cut
// text: an entry becomes a readable view (level with its emoji and colour,
// source, where it came from, message, its first few fields), every text is
// cut to the service's limit with a visible marker, and entries are packed
// into messages greedily, never past a limit (presets/limits.ts).

import { type LevelName, type LogEntry, levelName, nsToIso } from '@logkit/core'
import { linesOf, type Payload, type Renderer } from './payload.js'

export interface Shown {
  readonly level: LevelName
  readonly source: string
  /** app · hostname · pid, the parts that are known. */
  readonly origin: string
  readonly time: string
  readonly message: string
  /** The entry's first top-level fields: name and compact JSON value. */
  readonly fields: readonly (readonly [string, string])[]
}

/** Fields shown per entry at most. */
export const SHOWN_FIELDS = 8

export function shownOf(entry: LogEntry): Shown {
  const origin = [entry.app, entry.hostname, entry.pid > 0 ? `pid ${entry.pid}` : '']
    .filter((s) => s !== '')
    .join(' · ')
  const fields: [string, string][] = []
  let value: Readonly<Record<string, unknown>>
  try {
    value = entry.fields.value
  } catch {
    value = {}
  }
  for (const key of Object.keys(value)) {
    if (fields.length >= SHOWN_FIELDS) break
    const v = value[key]
    fields.push([key, typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v))])
  }
  return {
    level: levelName(entry.level),
    source: entry.source,
    origin,
    time: nsToIso(entry.time),
    message: entry.msg,
    fields,
  }
}

/**
 * `text` cut to at most `max` characters (UTF-16 units, which count at least
 * as many as the services' characters), ending in a marker that says how
 * much was cut. Never splits a surrogate pair.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text
  // The count in the marker has at most as many digits as text.length.
  let keep = Math.max(0, max - marker(text.length).length)
  const last = text.charCodeAt(keep - 1)
  if (last >= 0xd800 && last <= 0xdbff) keep--
  return (text.slice(0, keep) + marker(text.length - keep)).slice(0, max)
}

const marker = (cut: number) => `… [${cut} more characters]`

/** What a chat preset makes of a group of entries: one message. */
export interface ChatMessage {
  /** The message's JSON body. */
  readonly body: unknown
  /** The characters it counts against the service's per-message total. */
  readonly size: number
}

export interface ChatFormat<Part> {
  /** The most entries in one message. */
  readonly maxPerMessage: number
  /** The service's limit on the sum of parts' sizes in one message (Infinity when none). */
  readonly maxTotal: number
  /** One entry's part of a message, within the service's limits for one part. */
  part(shown: Shown): { part: Part; size: number }
  /** The message of some parts (with the entries they show, for its notification text). */
  message(parts: readonly Part[], shown: readonly Shown[]): unknown
}

class ChatPayload implements Payload {
  readonly contentType = 'application/json'
  readonly oversized = false
  readonly body: Buffer
  readonly #entries: readonly LogEntry[]
  readonly #remake: (entries: readonly LogEntry[]) => Payload

  constructor(
    entries: readonly LogEntry[],
    body: unknown,
    remake: (entries: readonly LogEntry[]) => Payload,
  ) {
    this.#entries = entries
    this.body = Buffer.from(JSON.stringify(body))
    this.#remake = remake
  }

  get count(): number {
    return this.#entries.length
  }

  lines(): Buffer {
    return linesOf(this.#entries)
  }

  split(): readonly [Payload, Payload] | undefined {
    const n = this.#entries.length
    if (n < 2) return undefined
    const mid = n >> 1
    return [this.#remake(this.#entries.slice(0, mid)), this.#remake(this.#entries.slice(mid))]
  }
}

/** A renderer that packs entries into messages of `format`, greedily, in order. */
export function chatRenderer<Part>(format: ChatFormat<Part>, maxEntries: number): Renderer {
  const perMessage = Math.max(1, Math.min(maxEntries, format.maxPerMessage))
  // Any subset of a message's entries fits in one message: split() uses this.
  const one = (entries: readonly LogEntry[]): Payload => {
    const shown = entries.map(shownOf)
    const parts = shown.map((s) => format.part(s).part)
    return new ChatPayload(entries, format.message(parts, shown), one)
  }
  return {
    entries(entries) {
      const out: Payload[] = []
      let group: LogEntry[] = []
      let parts: Part[] = []
      let shown: Shown[] = []
      let total = 0
      const close = () => {
        if (group.length > 0) out.push(new ChatPayload(group, format.message(parts, shown), one))
        group = []
        parts = []
        shown = []
        total = 0
      }
      for (const entry of entries) {
        const s = shownOf(entry)
        const { part, size } = format.part(s)
        if (group.length >= perMessage || total + size > format.maxTotal) close()
        group.push(entry)
        parts.push(part)
        shown.push(s)
        total += size
      }
      close()
      return out
    },
  }
}
