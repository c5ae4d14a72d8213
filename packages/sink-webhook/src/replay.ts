// `logkit replay`: sends a dead-letter file again through a webhook sink made
// from the same options, and leaves in the file only what still was not
// delivered.
//
//   1. rename FILE → FILE.replaying-PID   (a collector writing to FILE starts a new one: it opens per record)
//   2. each record of it → sink.write()    (its header keeps the batch together; the lines become entries)
//   3. what is not delivered again goes back to FILE (the sink's deadLetter is FILE, whatever the manifest says)
//   4. FILE.replaying-PID is removed       (after a last look for a record a collector finished writing late)
//
// The replay sink is the manifest's, but with no `level` (what is in the file
// was already past it when it was written: a raised level must not drop it)
// and `batch.maxWaitMs` 0 (a record is a request's worth: waiting for more
// would only add a second per record). A line that is not a JSON entry (a
// partial line a crash left) does not stop the replay: such lines go back to
// FILE as a record of their own (reason `unparsable`), counted and reported,
// and the rest is sent.
//
// A failure part way (the dead-letter file cannot be written) leaves
// FILE.replaying-PID in place, named in the error: replay it again.

import { readFile, rename, unlink } from 'node:fs/promises'
import { type DiagnosticReporter, entryFromJsonLine, type LogEntry } from '@logkit/core'
import { DeadLetterFile, HEADER_PREFIX } from './dead-letter.js'
import { endpointLabel } from './endpoint.js'
import { webhookSinkError } from './errors.js'
import { validateWebhookOptions, type WebhookSinkConfig } from './options.js'
import { openWebhookSink } from './webhook-sink.js'

export interface ReplayResult {
  /** Records (requests' worth of entries) read. */
  readonly records: number
  readonly entries: number
  /** Entries the endpoint accepted this time. */
  readonly delivered: number
  /** Entries that went back to the dead-letter file. */
  readonly deadLettered: number
  /** Lines that are not JSON entries: put back into the dead-letter file as they were. */
  readonly unparsable: number
}

export interface ReplayContext {
  readonly report?: DiagnosticReporter | undefined
  /** The sink's id, for the records that go back. */
  readonly id?: string | undefined
}

/** Replays `file` with the webhook sink of `options` (as the manifest gives them). */
export async function replay(
  file: string,
  options: unknown,
  context: ReplayContext = {},
): Promise<ReplayResult> {
  const config = replayConfig(validateWebhookOptions(options), file)
  const deadLetter = config.deadLetter as NonNullable<WebhookSinkConfig['deadLetter']>
  const working = `${file}.replaying-${process.pid}`
  try {
    await rename(file, working)
  } catch (cause) {
    throw webhookSinkError(
      'LOGKIT_ERR_WEBHOOK_REPLAY',
      `cannot replay ${file} (${(cause as NodeJS.ErrnoException).code ?? String(cause)}): expected a dead-letter file of a webhook sink`,
      { cause, retryable: false },
    )
  }
  const sink = openWebhookSink(config, context)
  let records = 0
  let entries = 0
  const unparsable: string[] = []
  try {
    const send = async (text: string) => {
      for (const record of recordsOf(text, unparsable)) {
        records++
        entries += record.length
        await sink.write(record)
      }
    }
    // A collector that opened the file before the rename may still finish a
    // record in it: read whole lines until it stops growing; only then is a
    // last line without its newline what a crash left.
    let done = 0
    let seen = -1
    for (;;) {
      const text = await readFile(working, 'utf8')
      if (text.length === seen) {
        if (done < text.length) await send(text.slice(done))
        break
      }
      seen = text.length
      const end = text.lastIndexOf('\n') + 1
      if (end > done) {
        await send(text.slice(done, end))
        done = end
      }
    }
  } catch (cause) {
    await sink.close()
    throw webhookSinkError(
      'LOGKIT_ERR_WEBHOOK_REPLAY',
      `replay of ${file} stopped (${cause instanceof Error ? cause.message : String(cause)}): what was not sent is still in ${working}; replay that file`,
      { cause, retryable: false },
    )
  }
  await sink.close()
  const stats = sink.stats
  if (unparsable.length > 0) {
    try {
      await putBack(unparsable, deadLetter, config.url, context)
    } catch (cause) {
      throw webhookSinkError(
        'LOGKIT_ERR_WEBHOOK_REPLAY',
        `replay of ${file}: ${unparsable.length} lines that are not JSON entries could not be put back into it (${cause instanceof Error ? cause.message : String(cause)}): they are still in ${working}`,
        { cause, retryable: false },
      )
    }
  }
  await unlink(working)
  return {
    records,
    entries,
    delivered: stats.delivered,
    deadLettered: stats.deadLettered,
    unparsable: unparsable.length,
  }
}

/** The sink that replays `file`: the manifest's, with no level, no wait for fuller requests, and `file` as its dead-letter file. */
export function replayConfig(config: WebhookSinkConfig, file: string): WebhookSinkConfig {
  return {
    ...config,
    level: undefined,
    batch: { ...config.batch, maxWaitMs: 0 },
    deadLetter: { maxBytes: 64 * 1024 * 1024, keep: 3, ...config.deadLetter, path: file },
  }
}

/** Lines that are not entries, back into the dead-letter file as one record (reason `unparsable`), and reported. */
async function putBack(
  lines: readonly string[],
  deadLetter: NonNullable<WebhookSinkConfig['deadLetter']>,
  url: string,
  context: ReplayContext,
): Promise<void> {
  const report = context.report
  const file = new DeadLetterFile({
    ...deadLetter,
    onDiscard: (count, path) =>
      report?.({
        code: 'dead_letter_discarded',
        stage: 'sink',
        level: 50,
        message: `dead-letter file ${path} was past deadLetter.keep (${deadLetter.keep}) and was removed with its ${count ?? 'unknown number of'} entries`,
        ...(count === undefined ? {} : { count }),
        details: { path, countUnknown: count === undefined },
      }),
  })
  await file.append(
    {
      time: new Date().toISOString(),
      sink: context.id ?? 'webhook',
      endpoint: endpointLabel(url),
      reason: 'unparsable',
      attempts: 0,
      entries: lines.length,
    },
    Buffer.from(lines.map((l) => `${l}\n`).join('')),
  )
  report?.({
    code: 'dead_letter_unparsable',
    stage: 'sink',
    level: 40,
    message: `${lines.length} lines of dead-letter file ${deadLetter.path} are not JSON entries (a partial line a crash left?): not sent, put back into the file as they were; look at them, remove or fix them`,
    count: lines.length,
    details: { path: deadLetter.path },
  })
}

/** The records of a dead-letter text: the entries after each header, as entries; lines that are not go to `unparsable`. */
function recordsOf(text: string, unparsable: string[]): LogEntry[][] {
  const records: LogEntry[][] = []
  let current: LogEntry[] | undefined
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string
    if (line === '') continue
    if (line.startsWith(HEADER_PREFIX)) {
      current = []
      records.push(current)
      continue
    }
    const entry = entryFromJsonLine(line)
    if (entry === undefined) {
      unparsable.push(line)
      continue
    }
    if (current === undefined) {
      current = []
      records.push(current)
    }
    current.push(entry)
  }
  return records.filter((r) => r.length > 0)
}
