// Two real collector processes start for one app at the same moment, again and
// again, with and without a lock left behind by a dead collector: in every
// trial exactly one of them holds the app's lock, and the lock file left
// behind is the winner's.
//
// The contenders are two long-lived node processes (one start-up each, not
// one per trial) that run the built session module (dist/). For each trial the
// test names an app and a moment a few ms ahead; both spin until that moment
// and then call openSession (even trials) or acquireSession (odd trials), so
// that their attempts overlap as closely as two processes can.

import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { ensureAppDir } from '../src/runtime-dir.js'
import { openSession, readSession } from '../src/session.js'
import { tempDir } from '../src/testing/index.js'

const sessionJs = fileURLToPath(new URL('../dist/session.js', import.meta.url))

/** Trials per variant. On the code before the fix, both variants double-locked in a few % (plain) and ~25 % (stale) of trials. */
const TRIALS = 400

const CONTENDER = `
import { createInterface } from 'node:readline'
const { openSession, acquireSession } = await import(${JSON.stringify(sessionJs)})
const env = JSON.parse(process.argv[1])
const held = []
const now = () => performance.timeOrigin + performance.now()
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line)
  if (cmd.close) {
    for (const h of held) (h.release ?? h.close)()
    process.stdout.write(JSON.stringify({ closed: held.length }) + '\\n')
    break
  }
  while (now() < cmd.at) {}
  let reply
  try {
    held.push(cmd.trial % 2 === 0 ? openSession(cmd.app, { env }) : acquireSession(cmd.app, env))
    reply = { trial: cmd.trial, won: true }
  } catch (err) {
    reply = { trial: cmd.trial, won: false, code: err.code ?? String(err) }
  }
  process.stdout.write(JSON.stringify(reply) + '\\n')
}
`

interface Contender {
  readonly child: ChildProcessByStdio<Writable, Readable, null>
  /** The next reply line. */
  next(): Promise<Record<string, unknown>>
}

function contender(env: Record<string, string>): Contender {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER, JSON.stringify(env)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines: string[] = []
  const waiting: ((line: string) => void)[] = []
  let rest = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => {
    rest += chunk
    for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n')) {
      const line = rest.slice(0, nl)
      rest = rest.slice(nl + 1)
      const take = waiting.shift()
      if (take) take(line)
      else lines.push(line)
    }
  })
  return {
    child,
    next: () =>
      new Promise((resolve) => {
        const line = lines.shift()
        if (line !== undefined) resolve(JSON.parse(line))
        else waiting.push((l) => resolve(JSON.parse(l)))
      }),
  }
}

/** The pid of a process that has exited (its lock is stale). */
function deadPid(): number {
  const done = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  })
  return Number(done.stdout)
}

async function runTrials(t: Test, stale: boolean): Promise<void> {
  const base = tempDir('logkit-race-')
  const env = { LOGKIT_RUNTIME_DIR: join(base, 'run'), LOGKIT_SHM_DIR: join(base, 'shm') }
  const pair = [contender(env), contender(env)]
  t.teardown(() => {
    for (const c of pair) c.child.kill('SIGKILL')
  })
  const dead = deadPid()
  const doubled: number[] = []
  const none: number[] = []
  const wrongFile: number[] = []
  for (let trial = 0; trial < TRIALS; trial++) {
    const app = `race${trial}`
    if (stale) {
      // A lock as a collector that was SIGKILLed leaves it: its pid, nothing else.
      const paths = ensureAppDir(app, env)
      writeFileSync(paths.lockFile, `${dead}\n`, { mode: 0o600 })
    }
    const at = performance.timeOrigin + performance.now() + 4
    for (const c of pair) c.child.stdin.write(`${JSON.stringify({ trial, app, at })}\n`)
    const replies = await Promise.all(pair.map((c) => c.next()))
    const winners = pair.filter((_, i) => replies[i]?.['won'] === true)
    const losers = replies.filter((r) => r['won'] !== true)
    if (winners.length > 1) doubled.push(trial)
    if (winners.length === 0 || losers.some((r) => r['code'] !== 'LOGKIT_ERR_SESSION_LOCKED'))
      none.push(trial)
    if (winners.length === 1 && readSession(app, env)?.pid !== winners[0]?.child.pid) wrongFile.push(trial)
  }
  t.same(doubled, [], `in no trial of ${TRIALS} did both collectors take the lock`)
  t.same(none, [], 'in every trial one collector took the lock and the other was refused as locked')
  t.same(wrongFile, [], "the session file left in place is the winner's in every trial")
  for (const c of pair) c.child.stdin.write(`${JSON.stringify({ close: true })}\n`)
  const closed = await Promise.all(pair.map((c) => c.next()))
  t.equal(
    closed.reduce((n, r) => n + Number(r['closed']), 0),
    TRIALS,
    'the winners of all trials held their sessions until told to close',
  )
  let left = 0
  for (let trial = 0; trial < TRIALS; trial++) if (readSession(`race${trial}`, env) !== undefined) left++
  t.equal(left, 0, 'no session is left once the winners closed')
}

t.test('two collectors starting together: exactly one holds the lock', (t) => runTrials(t, false))

t.test('two collectors starting together over a stale lock: exactly one takes it over', (t) =>
  runTrials(t, true),
)

t.test('close() leaves a lock that is no longer this collector’s', async (t) => {
  const base = tempDir('logkit-race-')
  const env = { LOGKIT_RUNTIME_DIR: join(base, 'run'), LOGKIT_SHM_DIR: join(base, 'shm') }
  const first = openSession('demo', { env })
  // Someone removed the first collector's files by hand; a second collector starts and takes the app.
  rmSync(first.paths.lockFile)
  rmSync(first.paths.sessionFile)
  const second = contender(env)
  t.teardown(() => {
    second.child.kill('SIGKILL')
  })
  second.child.stdin.write(`${JSON.stringify({ trial: 0, app: 'demo', at: 0 })}\n`)
  t.same(await second.next(), { trial: 0, won: true }, 'the second collector took the free app')
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined)
  const secondLock = read(first.paths.lockFile)
  first.close()
  t.equal(
    read(first.paths.lockFile),
    secondLock,
    "the first collector's close() left the second one's lock in place",
  )
  t.equal(readSession('demo', env)?.pid, second.child.pid, "and the second one's session file")
  t.throws(
    () => openSession('demo', { env }),
    { code: 'LOGKIT_ERR_SESSION_LOCKED', details: { pid: second.child.pid } },
    'so a third collector is still refused',
  )
})
