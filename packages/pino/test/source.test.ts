import { PassThrough } from 'node:stream'
import { createPipeline, type LogEntry, useSource } from '@logkit/core'
import t from 'tap'
import { pinoSource } from '../src/pipeline.js'

/** Runs the pino source over `input` into an array, until it completes. */
async function collect(input: string[], options: Record<string, unknown> = {}) {
  const stream = new PassThrough()
  const got: LogEntry[] = []
  const diagnostics: string[] = []
  const pipeline = createPipeline({
    app: 'src',
    sources: [useSource(pinoSource, { stream, ...options }, 'pino')],
    sinks: [
      { write: (batch: readonly LogEntry[]) => void got.push(...batch.filter((e) => e.source !== 'logkit')) },
    ],
    onDiagnostic: (d) => diagnostics.push(d.code),
    diagnosticEntries: false,
  })
  await pipeline.start()
  for (const chunk of input) stream.write(chunk)
  stream.end()
  await pipeline.closed
  return { got, diagnostics }
}

t.test('lines split across chunks, blank lines skipped, a long line cut and reported', async (t) => {
  const long = `{"msg":"${'x'.repeat(3000)}"}`
  const { got, diagnostics } = await collect(
    [
      '{"level":40,"time":1795000000000,"pid":77,"hostname":"h","name":"api","a":1,"msg":"one"}\n{"lev',
      'el":50,"msg":"two"}\n\n',
      `${long}\n`,
      'plain tail',
    ],
    { maxLineBytes: 1024 },
  )
  t.equal(got.length, 4)
  t.match(got[0], { level: 40, msg: 'one', source: 'api', pid: 77, hostname: 'h', seq: 1 })
  t.equal(got[0]?.fields.json, '{"a":1}')
  t.match(got[1], { level: 50, msg: 'two', source: 'main', pid: process.pid })
  t.equal(got[2]?.msg.length, 1024, 'the long line cut to maxLineBytes, kept as text')
  t.match(got[3], { level: 30, msg: 'plain tail' })
  t.ok(diagnostics.includes('line_truncated'), 'the cut reported')
  t.ok(diagnostics.includes('line_not_json'), 'lines that were not JSON reported')
})

t.test('custom levels and messageKey from the options', async (t) => {
  const { got } = await collect(['{"level":"audit","message":"m","x":1}\n'], {
    levels: { audit: 35 },
    messageKey: 'message',
    source: 'web',
  })
  t.match(got[0], { level: 35, msg: 'm', source: 'web' })
})
