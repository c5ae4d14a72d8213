// Preset slack: an incoming-webhook message of section blocks, one an entry,
// its text in mrkdwn, at most SLACK.blockText characters. The message's
// `text` is what a notification shows: the first entry, and how many more.
// Log text is escaped (&, <, >), so an entry cannot mention @channel or
// make a link.

import type { LevelName } from '@logkit/core'
import { type ChatFormat, clip, type Shown } from './chat.js'
import { SLACK } from './limits.js'

const EMOJI: Readonly<Record<LevelName, string>> = {
  fatal: ':rotating_light:',
  error: ':red_circle:',
  warn: ':warning:',
  info: ':large_blue_circle:',
  debug: ':white_circle:',
  trace: ':white_circle:',
}

/** Slack's mrkdwn escapes; an entity cut in two by clip() is dropped. */
function mrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function clipEscaped(text: string, max: number): string {
  const escaped = mrkdwn(text)
  if (escaped.length <= max) return escaped
  return clip(escaped, max).replace(/&[a-z]{0,3}(?=… \[)/, '')
}

interface Block {
  readonly type: 'section'
  readonly text: { readonly type: 'mrkdwn'; readonly text: string }
}

export function headline(s: Shown): string {
  return `${s.level.toUpperCase()}${s.source === '' ? '' : ` ${s.source}`}: ${s.message}`
}

export const slackFormat: ChatFormat<Block> = {
  maxPerMessage: SLACK.maxBlocks,
  maxTotal: Number.POSITIVE_INFINITY,
  part(s) {
    const head = [
      `${EMOJI[s.level]} *${s.level.toUpperCase()}*`,
      s.source === '' ? '' : `\`${mrkdwn(clip(s.source, 100))}\``,
      mrkdwn(clip(s.origin, 200)),
      s.time,
    ]
      .filter((p) => p !== '')
      .join(' · ')
    const fields = s.fields.map(([k, v]) => `\`${mrkdwn(clip(k, 50))}\` ${mrkdwn(clip(v, 200))}`).join('  ')
    // The message gets what the head and the fields leave.
    const room = SLACK.blockText - head.length - fields.length - 2
    const text = [head, clipEscaped(s.message, Math.max(200, room)), fields]
      .filter((p) => p !== '')
      .join('\n')
    const block: Block = { type: 'section', text: { type: 'mrkdwn', text: clip(text, SLACK.blockText) } }
    return { part: block, size: block.text.text.length }
  },
  message(blocks, shown) {
    const first = shown[0] as Shown
    const more = shown.length > 1 ? ` (+${shown.length - 1} more)` : ''
    return { text: clipEscaped(headline(first), SLACK.notification - more.length) + more, blocks }
  },
}
