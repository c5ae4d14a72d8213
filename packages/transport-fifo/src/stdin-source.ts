// The stdin source (`use: stdin`): lines of a stream — process.stdin unless
// one is given — as entries: NDJSON lines (pino's output) with their fields,
// other lines as messages (ndjson.ts). Lines are bounded (line-splitter.ts);
// the stream is paused while demand is, and left open (never destroyed) when
// the source ends, since it is usually the process's own stdin.

import { hostname as osHostname } from 'node:os'
import type { Readable } from 'node:stream'
import { type LogEntry, PLUGIN_API_VERSION, type SourceContext, validateOptions } from '@logkit/core'
import { Observable } from 'rxjs'
import { LineSplitter } from './line-splitter.js'
import { parseLine, textEntry } from './ndjson.js'
import { type StdinSourceOptions, stdinSourceOptions } from './options.js'

export type { StdinSourceOptions } from './options.js'

/** Entries from the lines of a stream (default process.stdin); completes when it ends or intake stops. */
export function createStdinSource(
  options: StdinSourceOptions,
  context: Pick<SourceContext, 'app' | 'demand' | 'signal' | 'report'>,
): Observable<LogEntry> {
  const opts = validateOptions(
    { kind: 'source', name: 'stdin', apiVersion: PLUGIN_API_VERSION, options: stdinSourceOptions },
    options,
  )
  return new Observable<LogEntry>((subscriber) => {
    const stream: Readable = opts.stream ?? process.stdin
    const splitter = new LineSplitter(opts.maxLineBytes)
    const hostname = osHostname()
    let seq = 0
    let cutLines = 0
    let cutBytes = 0
    let done = false
    let stopResume: (() => void) | undefined

    const onLine = (line: Buffer, cut: number) => {
      if (line.length === 0 && cut === 0) return
      const defaults = { app: context.app, source: opts.source, hostname, seq: ++seq }
      const text = line.toString('utf8')
      if (cut > 0) {
        // The rest of the line is gone: what is left is no JSON any more, so it is kept as text.
        cutLines++
        cutBytes += cut
        subscriber.next(textEntry(text, defaults, { truncated: true, cutBytes: cut }))
        return
      }
      subscriber.next(parseLine(text, defaults))
    }
    const reportCuts = () => {
      if (cutLines === 0) return
      context.report({
        code: 'line_truncated',
        message: `${cutLines} lines longer than ${opts.maxLineBytes} bytes were cut short (${cutBytes} bytes dropped)`,
        count: cutLines,
        details: { bytes: cutBytes, maxLineBytes: opts.maxLineBytes },
      })
      cutLines = 0
      cutBytes = 0
    }
    const onData = (chunk: Buffer | string) => {
      splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, onLine)
      reportCuts()
      if (context.demand.paused && stopResume === undefined) {
        stream.pause()
        stopResume = context.demand.onResume(() => {
          stopResume?.()
          stopResume = undefined
          if (!done) stream.resume()
        })
      }
    }
    const finish = () => {
      if (done) return
      done = true
      cleanup()
      splitter.end(onLine)
      reportCuts()
      subscriber.complete()
    }
    const onError = (err: Error) => {
      context.report({ code: 'stdin_failed', level: 50, message: `reading the input failed: ${err.message}` })
      finish()
    }
    const cleanup = () => {
      stream.off('data', onData)
      stream.off('end', finish)
      stream.off('error', onError)
      context.signal.removeEventListener('abort', finish)
      stopResume?.()
      stopResume = undefined
      stream.pause()
    }
    if (context.signal.aborted) {
      finish()
      return undefined
    }
    stream.on('data', onData)
    stream.on('end', finish)
    stream.on('error', onError)
    context.signal.addEventListener('abort', finish, { once: true })
    return () => {
      done = true
      cleanup()
    }
  })
}
