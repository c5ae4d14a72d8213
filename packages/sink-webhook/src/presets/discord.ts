// Preset discord: a webhook message of embeds, one an entry: the level's
// colour, title "emoji LEVEL · source", the message as description, the first
// fields inline, where it came from in the footer, the entry's time. Every
// text is cut to its limit, and embeds are packed so that a message holds at
// most DISCORD.maxEmbeds and DISCORD.total characters. Mentions are off:
// a log line cannot ping @everyone.

import type { LevelName } from '@logkit/core'
import { type ChatFormat, clip } from './chat.js'
import { DISCORD } from './limits.js'

const EMOJI: Readonly<Record<LevelName, string>> = {
  fatal: '🚨',
  error: '🔴',
  warn: '⚠️',
  info: '🔵',
  debug: '⚪',
  trace: '⚪',
}

export const COLOUR: Readonly<Record<LevelName, number>> = {
  fatal: 0x8b0000,
  error: 0xe01e5a,
  warn: 0xecb22e,
  info: 0x36c5f0,
  debug: 0x9e9e9e,
  trace: 0xbdbdbd,
}

/** Field text kept per field: a readable card, well within Discord's 256 and 1024. */
const FIELD_NAME = 64
const FIELD_VALUE = 200

export interface Embed {
  readonly title: string
  readonly description: string
  readonly color: number
  readonly fields: readonly { readonly name: string; readonly value: string; readonly inline: true }[]
  readonly footer?: { readonly text: string }
  readonly timestamp: string
}

/** The characters of an embed Discord counts against DISCORD.total. */
export function embedSize(e: Embed): number {
  let n = e.title.length + e.description.length + (e.footer?.text.length ?? 0)
  for (const f of e.fields) n += f.name.length + f.value.length
  return n
}

export const discordFormat: ChatFormat<Embed> = {
  maxPerMessage: DISCORD.maxEmbeds,
  maxTotal: DISCORD.total,
  part(s) {
    const title = clip(
      `${EMOJI[s.level]} ${s.level.toUpperCase()}${s.source === '' ? '' : ` · ${s.source}`}`,
      DISCORD.title,
    )
    const fields = s.fields.slice(0, DISCORD.maxFields).map(([k, v]) => ({
      name: clip(k, FIELD_NAME) || '(empty)',
      value: clip(v, FIELD_VALUE) || '""',
      inline: true as const,
    }))
    const footer = s.origin === '' ? undefined : { text: clip(s.origin, DISCORD.footer) }
    const others =
      title.length +
      (footer?.text.length ?? 0) +
      fields.reduce((n, f) => n + f.name.length + f.value.length, 0)
    // One embed alone never passes the message total: the description gets what the rest leaves.
    const description = clip(
      s.message === '' ? '(no message)' : s.message,
      Math.min(DISCORD.description, DISCORD.total - others),
    )
    const embed: Embed = {
      title,
      description,
      color: COLOUR[s.level],
      fields,
      ...(footer === undefined ? {} : { footer }),
      timestamp: s.time,
    }
    return { part: embed, size: embedSize(embed) }
  },
  message: (embeds) => ({ embeds, allowed_mentions: { parse: [] } }),
}
