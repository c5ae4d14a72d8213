// A tail that stops reading (a terminal suspended with Ctrl-Z) costs the
// collector a bounded buffer: real `logkit compose`, a real `logkit tail`
// under SIGSTOP, real shm producers. Asserts on the follower's buffer as the
// collector's status reports it, and on what tail prints once it resumes.

import { writeFileSync } from 'node:fs'
import { createConnection } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import {
  cliBin,
  controlSocketOf,
  isolatedEnv,
  producerScript,
  runCli,
  startNode,
  until,
  waitFor,
} from './helpers.js'

interface FollowerStatus {
  bufferedBytes: number
  peakBufferedBytes: number
  maxBytes: number
  full: boolean
  missed: number
}

function manifest(dir: string, out: string): string {
  const file = join(dir, 'manifest.yaml')
  writeFileSync(
    file,
    [
      'version: 1',
      'app: testapp',
      'pipelines:',
      '  main:',
      '    sources:',
      '      - use: shm',
      '    sinks:',
      '      - use: file',
      `        path: ${out}`,
      '',
    ].join('\n'),
  )
  return file
}

async function status(env: Record<string, string>): Promise<{
  followers?: FollowerStatus[]
  producers?: { source: string; entries: number }[]
}> {
  const r = await runCli(['status', '--app', 'testapp', '--json'], env)
  return JSON.parse(r.stdout)
}

t.test(
  'a stopped tail: its buffer stays within the bound, and once resumed it is told exactly how many entries it missed',
  async (t) => {
    const { work, ...env } = isolatedEnv()
    const compose = startNode([cliBin, 'compose', manifest(work, join(work, 'out.log'))], env)
    t.teardown(() => compose.process.kill('SIGKILL'))
    await controlSocketOf(env.LOGKIT_RUNTIME_DIR, 'testapp')

    const tail = startNode([cliBin, 'tail', '--app', 'testapp', '--source', 'bulk', '-n', '0'], env)
    t.teardown(() => {
      tail.process.kill('SIGCONT')
      tail.process.kill('SIGKILL')
    })
    await until(async () => ((await status(env)).followers ?? []).length === 1, 'tail following')
    tail.process.kill('SIGSTOP')

    const N = 40_000
    const producer = await startNode([producerScript, 'shm', 'bulk', String(N)], {
      ...env,
      LOGKIT_TEST_APP: 'testapp',
    }).exit
    t.equal(producer.code, 0, `the producer logs ${N} entries (${producer.stderr.trim()})`)
    await until(
      async () => (await status(env)).producers?.some((p) => p.source === 'bulk' && p.entries === N) === true,
      'every entry in the collector',
    )
    await until(async () => (await status(env)).followers?.[0]?.full === true, 'the follower full')
    const stalled = (await status(env)).followers?.[0] as FollowerStatus
    t.equal(stalled.maxBytes, 1024 * 1024, 'the follower bound is 1 MiB by default')
    t.ok(
      stalled.peakBufferedBytes <= stalled.maxBytes,
      `the collector never buffered more than the bound for the stopped tail (peak ${stalled.peakBufferedBytes} bytes of ${stalled.maxBytes})`,
    )
    t.ok(stalled.missed > 0, `entries past the bound are counted as missed (${stalled.missed})`)

    tail.process.kill('SIGCONT')
    // Walk what tail printed: each entry is the one after the last, unless a
    // missed line says how many were skipped before it.
    const account = () => {
      let next = 1
      const wrong: string[] = []
      let missedLines = 0
      for (const line of tail.stdout().split('\n').slice(0, -1)) {
        const missed = /^… (\d+) entries missed \(tail could not keep up\)$/.exec(line)
        if (missed !== null) {
          next += Number(missed[1])
          missedLines++
          continue
        }
        const i = Number(/entry (\d+)/.exec(line)?.[1])
        if (i !== next) wrong.push(`expected entry ${next}, printed ${JSON.stringify(line)}`)
        next = i + 1
      }
      return { next, wrong, missedLines }
    }
    await waitFor(() => account().next === N + 1, 'tail accounting for every entry').catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(account())}`)
    })
    const { wrong, missedLines } = account()
    t.same(wrong, [], 'every printed entry follows the one before, or the count of those missed between them')
    t.ok(missedLines >= 1, `tail printed the missed-count line (${missedLines} times)`)
    const after = (await status(env)).followers?.[0] as FollowerStatus
    t.equal(after.full, false, 'after resuming, the follower gets entries again')
  },
)

t.test('a request line longer than 64 KiB is refused and the connection closed', async (t) => {
  const { work, ...env } = isolatedEnv()
  const compose = startNode([cliBin, 'compose', manifest(work, join(work, 'out.log'))], env)
  t.teardown(() => compose.process.kill('SIGKILL'))
  const socketPath = await controlSocketOf(env.LOGKIT_RUNTIME_DIR, 'testapp')
  const socket = createConnection(socketPath)
  let received = ''
  socket.setEncoding('utf8').on('data', (d: string) => (received += d))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  let wrote = 0
  socket.once('connect', () => {
    // A line without its newline, longer than the bound.
    const chunk = 'x'.repeat(16 * 1024)
    const more = () => {
      while (wrote < 256 * 1024 && !socket.destroyed) {
        wrote += chunk.length
        if (!socket.write(chunk)) {
          socket.once('drain', more)
          return
        }
      }
    }
    more()
  })
  let isClosed = false
  void closed.then(() => (isClosed = true))
  await waitFor(() => isClosed, 'the collector closing the connection')
  const reply = JSON.parse(received.trim().split('\n')[0] ?? '{}') as { ok?: boolean; code?: string }
  t.same(
    [reply.ok, reply.code],
    [false, 'LOGKIT_ERR_CLI_REQUEST_TOO_LONG'],
    'the reply refuses the request with its code',
  )
  const still = await runCli(['status', '--app', 'testapp', '--json'], env)
  t.equal(still.code, 0, 'the collector serves the next request')
})
