// The presets and the limits of the services they talk to, in one table: the
// renderers split and truncate by these numbers, and the tests check payloads
// against them.

export type PresetName = 'json' | 'ndjson' | 'slack' | 'discord'

export const presetNames: readonly PresetName[] = ['json', 'ndjson', 'slack', 'discord']

/** Slack's limits (api.slack.com/reference/block-kit, chat.postMessage). */
export const SLACK = {
  /** Text of a section block. */
  blockText: 3000,
  /** Blocks per message (Slack allows 50; fewer keeps a message readable). */
  maxBlocks: 20,
  /** The top-level `text`: Slack truncates past 40,000 characters; it is the notification text here. */
  text: 40_000,
  /** The notification text kept. */
  notification: 300,
} as const

/** Discord's limits (discord.com/developers/docs/resources/message#embed-object-embed-limits). */
export const DISCORD = {
  content: 2000,
  maxEmbeds: 10,
  title: 256,
  description: 4096,
  maxFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  /** Characters of every embed of a message together (title, description, field names and values, footer). */
  total: 6000,
} as const

export interface PresetDefaults {
  /** Entries per request unless `batch.maxEntries` says otherwise. */
  readonly maxEntries: number
  /** Body bytes per request unless `batch.maxBytes` says otherwise. */
  readonly maxBytes: number
  /** `batch.maxWaitMs` unless given. */
  readonly maxWaitMs: number
  /** Least time between the starts of two requests, whatever the options (the service's own rate). */
  readonly minIntervalMs: number
}

const MiB = 1024 * 1024

export const presetDefaults: Readonly<Record<PresetName, PresetDefaults>> = {
  json: { maxEntries: 1000, maxBytes: MiB, maxWaitMs: 1000, minIntervalMs: 0 },
  ndjson: { maxEntries: 1000, maxBytes: MiB, maxWaitMs: 1000, minIntervalMs: 0 },
  // Slack: about one message per second per webhook; a message of section blocks.
  slack: { maxEntries: SLACK.maxBlocks, maxBytes: MiB, maxWaitMs: 1000, minIntervalMs: 1000 },
  // Discord: up to 10 embeds a message; its rate limits come in X-RateLimit-* headers.
  discord: { maxEntries: DISCORD.maxEmbeds, maxBytes: MiB, maxWaitMs: 1000, minIntervalMs: 0 },
}
