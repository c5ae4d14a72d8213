// An entry as the page gets it: one JSON object per SSE event, rendered once
// when it is published, however many browsers watch. Fields are spliced in as
// the producer wrote them (Fields.wellFormed), never parsed here.

import { type LogEntry, levelName } from '@logkit/core'

/** A published entry: its event id, what filters look at, and its SSE event text. */
export interface ViewEntry {
  readonly id: number
  readonly level: number
  readonly source: string
  /** Lowercased message and fields, for the text filter. */
  readonly text: string
  /** `id: EPOCH-N\nevent: entry\ndata: {...}\n\n` */
  readonly event: string
  /** A gap in the feed instead of an entry (tail --web: the control socket's losses), kept in its place. */
  readonly missed?: { readonly count: number; readonly reason: string } | undefined
}

/** A published entry; its lowercased text is made only when a text filter asks. */
class View implements ViewEntry {
  #text: string | undefined

  constructor(
    readonly id: number,
    readonly level: number,
    readonly source: string,
    readonly event: string,
    readonly msg: string,
    readonly fields: string,
  ) {}

  get text(): string {
    this.#text ??= `${this.msg}\n${this.fields}`.toLowerCase()
    return this.#text
  }
}

/**
 * A published entry. Its SSE id is `EPOCH-N`: the epoch is the server's own
 * (random, per start), so a browser resuming with the id of an earlier run
 * (a restarted pipeline or tail --web counts from 1 again) is known as such.
 */
export function viewEntry(id: number, entry: LogEntry, epoch = '0'): ViewEntry {
  const fields = entry.fields.wellFormed ? entry.fields.json : '{}'
  const data =
    `{"id":${id},"time":${JSON.stringify(entry.time.toString())},"level":${entry.level},` +
    `"levelName":"${levelName(entry.level)}","source":${JSON.stringify(entry.source)},"pid":${entry.pid},` +
    `"seq":${entry.seq},"app":${JSON.stringify(entry.app)},"hostname":${JSON.stringify(entry.hostname)},` +
    `"msg":${JSON.stringify(entry.msg)},"fields":${fields}}`
  return new View(
    id,
    entry.level,
    entry.source,
    `id: ${epoch}-${id}\nevent: entry\ndata: ${data}\n\n`,
    entry.msg,
    fields,
  )
}

/** What a browser asked to see: `/events?level=warn&source=a,b&q=timeout`. */
export interface ViewFilter {
  readonly minLevel: number
  readonly sources?: ReadonlySet<string> | undefined
  readonly text?: string | undefined
}

export function matches(filter: ViewFilter, entry: ViewEntry): boolean {
  return (
    entry.level >= filter.minLevel &&
    (filter.sources === undefined || filter.sources.has(entry.source)) &&
    (filter.text === undefined || entry.text.includes(filter.text))
  )
}

/** A named SSE event without an id (ids belong to entries). */
export function sseEvent(name: string, body: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(body)}\n\n`
}
