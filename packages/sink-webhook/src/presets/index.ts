// The renderer of a preset, from the validated options.

import type { WebhookSinkConfig } from '../options.js'
import { chatRenderer } from './chat.js'
import { discordFormat } from './discord.js'
import { linesRenderer } from './lines.js'
import type { Renderer } from './payload.js'
import { slackFormat } from './slack.js'

export function rendererFor(config: WebhookSinkConfig, onInvalidFields: (count: number) => void): Renderer {
  const { preset, batch } = config
  if (preset === 'slack') return chatRenderer(slackFormat, batch.maxEntries)
  if (preset === 'discord') return chatRenderer(discordFormat, batch.maxEntries)
  return linesRenderer({
    preset,
    template: config.template,
    maxEntries: batch.maxEntries,
    maxBytes: batch.maxBytes,
    onInvalidFields,
  })
}
