// Slack and Discord payloads, checked against the services' limits with
// oversized messages, many fields and many entries: every entry shown once,
// cut with a visible marker, never past a limit.

import { createEntry, type LogEntry } from '@logkit/core'
import t from 'tap'
import { createWebhookSink, DISCORD, SLACK } from '../src/index.js'
import { clip } from '../src/presets/chat.js'
import { entries, startServer } from './helpers.js'

function awkward(n: number): LogEntry[] {
  return Array.from({ length: n }, (_, i) =>
    createEntry({
      level: [30, 40, 50, 60][i % 4] as number,
      msg: i % 3 === 0 ? `big ${i} ${'é<@everyone>&'.repeat(2000)}🎉` : `small ${i} <!channel> & done`,
      source: i % 5 === 0 ? 's'.repeat(400) : 'api',
      app: 'shop',
      hostname: 'host-1',
      pid: 7,
      seq: i + 1,
      fields: Object.fromEntries(
        Array.from({ length: 30 }, (_, k) => [`field${k}${'k'.repeat(k * 10)}`, 'v'.repeat(k * 100)]),
      ),
    }),
  )
}

interface SlackBody {
  text: string
  blocks: { type: string; text: { type: string; text: string } }[]
}

t.test('slack: blocks within 3,000 characters, at most 20 a message, one message a second', async (t) => {
  const server = await startServer(t)
  const sink = createWebhookSink({ url: server.url, preset: 'slack', batch: { maxWaitMs: 0 } })
  const list = awkward(45)
  await sink.write(list)
  await sink.close()
  const bodies = server.received.map((r) => JSON.parse(r.body.toString()) as SlackBody)
  t.equal(bodies.length, 3, '45 entries in 3 messages')
  let shown = 0
  for (const body of bodies) {
    t.ok(body.blocks.length <= SLACK.maxBlocks, `${body.blocks.length} blocks`)
    t.ok(body.text.length <= SLACK.notification, 'the notification text is short')
    t.ok(body.text.length <= SLACK.text, 'and far within the 40,000 Slack truncates at')
    for (const block of body.blocks) {
      t.equal(block.type, 'section', 'a section block')
      t.ok(block.text.text.length <= SLACK.blockText, `a block of ${block.text.text.length} characters`)
      t.notMatch(block.text.text, /<@everyone>|<!channel>/, 'log text cannot mention anyone')
    }
    shown += body.blocks.length
  }
  t.equal(shown, 45, 'every entry shown once')
  const first = bodies[0]?.blocks[0]?.text.text ?? ''
  t.match(first, /^:large_blue_circle: \*INFO\*/, 'the level with its emoji')
  t.match(first, /more characters\]/, 'a cut message says so')
  t.match(bodies[0]?.blocks[3]?.text.text ?? '', /^:rotating_light: \*FATAL\*/, 'fatal has its own emoji')
  const gaps = server.received.slice(1).map((r, i) => r.at - (server.received[i]?.at ?? 0))
  t.ok(
    gaps.every((g) => g >= 950),
    `messages are at least a second apart (${gaps.join(', ')} ms)`,
  )
})

interface DiscordBody {
  embeds: {
    title: string
    description: string
    color: number
    fields: { name: string; value: string }[]
    footer?: { text: string }
    timestamp: string
  }[]
  allowed_mentions: { parse: string[] }
  content?: string
}

t.test('discord: at most 10 embeds and 6,000 characters a message, each text within its limit', async (t) => {
  const server = await startServer(t)
  const sink = createWebhookSink({ url: server.url, preset: 'discord', batch: { maxWaitMs: 0 } })
  const list = [...awkward(30), ...entries(25)]
  await sink.write(list)
  await sink.close()
  const bodies = server.received.map((r) => JSON.parse(r.body.toString()) as DiscordBody)
  let shown = 0
  for (const body of bodies) {
    t.ok(body.embeds.length <= DISCORD.maxEmbeds, `${body.embeds.length} embeds`)
    t.same(body.allowed_mentions, { parse: [] }, 'mentions are off')
    t.ok((body.content ?? '').length <= DISCORD.content, 'content within 2,000')
    let total = 0
    for (const e of body.embeds) {
      t.ok(e.title.length <= DISCORD.title, 'title within 256')
      t.ok(e.description.length <= DISCORD.description, 'description within 4,096')
      t.ok(e.fields.length <= DISCORD.maxFields, 'at most 25 fields')
      for (const f of e.fields) {
        t.ok(
          f.name.length <= DISCORD.fieldName && f.value.length <= DISCORD.fieldValue,
          'field within limits',
        )
        t.ok(f.name.length > 0 && f.value.length > 0, 'fields are never empty')
      }
      t.ok((e.footer?.text.length ?? 0) <= DISCORD.footer, 'footer within 2,048')
      total += e.title.length + e.description.length + (e.footer?.text.length ?? 0)
      for (const f of e.fields) total += f.name.length + f.value.length
    }
    t.ok(total <= DISCORD.total, `${total} characters in the message, within 6,000`)
    shown += body.embeds.length
  }
  t.equal(shown, list.length, 'every entry shown once')
  const first = bodies[0]?.embeds[0]
  t.match(first?.title ?? '', /^🔵 INFO · s+/, 'the level with its emoji, and the source')
  const error = bodies.flatMap((b) => b.embeds).find((e) => e.title.startsWith('🔴 ERROR'))
  t.equal(error?.color, 0xe01e5a, 'error has its colour')
  t.match(first?.description ?? '', /more characters\]$/, 'a cut message says so')
  t.match(first?.footer?.text ?? '', /shop · host-1 · pid 7/, 'where it came from')
})

t.test('clip: within max, never splits a surrogate pair, says how much it cut', async (t) => {
  t.equal(clip('short', 10), 'short', 'short text is untouched')
  const cut = clip('a'.repeat(100), 40)
  t.ok(cut.length <= 40, 'within max')
  t.match(cut, /… \[\d+ more characters\]$/, 'with the marker')
  t.equal(Number(/\[(\d+) more/.exec(cut)?.[1]) + cut.indexOf('…'), 100, 'the count is exact')
  for (let max = 20; max < 40; max++) {
    const text = clip('🎉'.repeat(50), max)
    t.notOk(/[\ud800-\udbff](?![\udc00-\udfff])/.test(text), `no lone surrogate at max ${max}`)
  }
  t.ok(clip('x'.repeat(100), 5).length <= 5, 'even a max smaller than the marker is kept')
})
