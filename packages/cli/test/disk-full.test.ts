// A full disk under a real collector: a 256 KiB tmpfs holds the log file, a
// real `logkit compose` writes to it, a real producer logs more than fits,
// and a real `logkit flush` must say that not everything is durable. Needs
// root (mount); skipped, with the reason, where mounting fails.

import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import {
  cliBin,
  controlSocketOf,
  type IsolatedEnv,
  isolatedEnv,
  producerScript,
  runCli,
  startNode,
  until,
} from './helpers.js'

function mountSmallTmpfs(dir: string): string | undefined {
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'pipe' })
    return undefined
  } catch (err) {
    return `cannot mount a 256 KiB tmpfs (needs root): ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`
  }
}

/** An isolated environment with a 256 KiB tmpfs at `disk`, or why one cannot be mounted. */
function smallDisk(): { work: string; env: Omit<IsolatedEnv, 'work'>; disk: string } | { skip: string } {
  const { work, ...env } = isolatedEnv()
  const disk = join(work, 'disk')
  const why = mountSmallTmpfs(disk)
  return why === undefined ? { work, env, disk } : { skip: why }
}

/** A manifest of app diskapp: one pipeline `main` reading shm, with these lines after its sources. */
function writeManifest(dir: string, name: string, lines: readonly string[]): string {
  const file = join(dir, name)
  const head = ['version: 1', 'app: diskapp', 'pipelines:', '  main:', '    sources:', '      - use: shm']
  writeFileSync(file, [...head, ...lines, ''].join('\n'))
  return file
}

function manifest(dir: string, out: string, policy: string): string {
  return writeManifest(dir, 'manifest.yaml', [
    '    sinks:',
    '      - use: file',
    `        path: ${out}`,
    '        queue:',
    `          policy: ${policy}`,
    // drop_newest: room for every entry, so that what is lost is lost to the disk.
    `          capacity: ${policy === 'block' ? 2000 : 10_000}`,
    '        retry:',
    '          retries: 1',
    '          minDelayMs: 10',
    '          maxDelayMs: 50',
  ])
}

interface SinkStatus {
  written: number
  failed: number
  dropped: number
  held: number
}

async function status(env: Record<string, string>) {
  const r = await runCli(['status', '--app', 'diskapp', '--json'], env)
  return JSON.parse(r.stdout) as { pipelines: { sinks: SinkStatus[]; diagnostics: Record<string, number> }[] }
}

for (const policy of ['block', 'drop_newest'] as const) {
  t.test(`a full disk (policy ${policy}): flush exits 1 and says what is not durable`, async (t) => {
    const setup = smallDisk()
    if ('skip' in setup) return t.skip(setup.skip)
    const { work, env, disk } = setup
    const compose = startNode([cliBin, 'compose', manifest(work, join(disk, 'out.log'), policy)], env)
    t.teardown(async () => {
      compose.process.kill('SIGKILL')
      await compose.exit
      execFileSync('umount', [disk])
    })
    await controlSocketOf(env.LOGKIT_RUNTIME_DIR, 'diskapp')

    // ~5,000 lines of ~150 bytes: three times what the disk holds.
    const producer = await startNode([producerScript, 'shm', 'bulk', '5000'], {
      ...env,
      LOGKIT_TEST_APP: 'diskapp',
    }).exit
    t.equal(producer.code, 0, `the producer ran to its end (${producer.stderr.trim()})`)
    const code = policy === 'block' ? 'sink_holding' : 'sink_failed'
    await until(
      async () => ((await status(env)).pipelines[0]?.diagnostics[code] ?? 0) > 0,
      `the ${code} diagnostic`,
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}: status ${JSON.stringify(await status(env))}; compose: ${compose.stderr()}`,
      )
    })

    const flush = await runCli(['flush', '--app', 'diskapp'], env)
    t.equal(flush.code, 1, 'flush exits 1: not everything is durable')
    t.match(flush.stderr, 'LOGKIT_ERR_CLI_FLUSH_INCOMPLETE', 'with its code on stderr')
    t.notMatch(flush.stdout, /^flushed$/m, 'and does not say flushed')
    const sink = (await status(env)).pipelines[0]?.sinks[0] as SinkStatus
    if (policy === 'block') {
      t.match(flush.stdout, /main\/file: \d+ entries not written yet/, 'flush says entries are held')
      t.ok(sink.held > 0, `the sink holds its batch (${sink.held} entries)`)
      t.equal(sink.failed, 0, 'under block nothing is counted lost while the disk is full')
    } else {
      const lost = Number(/main\/file: (\d+) entries lost since the last flush/.exec(flush.stdout)?.[1])
      t.ok(lost > 0, `flush says how many were lost (${lost})`)
      t.ok(
        lost <= sink.failed + sink.dropped,
        `no more than status counts as failed or dropped (${sink.failed + sink.dropped})`,
      )
      t.equal(sink.held, 0, 'a drop policy holds nothing')
    }
  })
}

t.test(
  'the file sink’s own drops (free-space guard) are in the totals and in flush, exactly once',
  async (t) => {
    const setup = smallDisk()
    if ('skip' in setup) return t.skip(setup.skip)
    const { work, env, disk } = setup
    const out = join(disk, 'out.log')
    const file = writeManifest(work, 'guard.yaml', [
      // Only the producer's entries reach the sink: the warning entries the
      // drops make would otherwise be dropped (and counted) too, one a second.
      '    operators:',
      '      - use: filter',
      '        source: bulk',
      '    sinks:',
      '      - use: file',
      `        path: ${out}`,
      '        minFreeBytes: 128KiB',
      '        policy: drop',
    ])
    const compose = startNode([cliBin, 'compose', file], env)
    let stopped = false
    t.teardown(async () => {
      if (!stopped) compose.process.kill('SIGKILL')
      await compose.exit
      execFileSync('umount', [disk])
    })
    await controlSocketOf(env.LOGKIT_RUNTIME_DIR, 'diskapp')

    const total = 5000
    const producer = await startNode([producerScript, 'shm', 'bulk', String(total)], {
      ...env,
      LOGKIT_TEST_APP: 'diskapp',
    }).exit
    t.equal(producer.code, 0, `the producer ran to its end (${producer.stderr.trim()})`)
    // Every entry decided by the sink: written, or let go by its guard.
    await until(async () => {
      const sink = (await status(env)).pipelines[0]?.sinks[0]
      return sink !== undefined && sink.written + sink.failed + sink.dropped >= total
    }, `the sink to take all ${total} entries`)

    const flush = await runCli(['flush', '--app', 'diskapp'], env)
    const onDisk = readFileSync(out, 'utf8').split('\n').length - 1
    const guardDropped = total - onDisk
    t.ok(guardDropped > 0 && onDisk > 0, `the guard wrote ${onDisk} entries and dropped ${guardDropped}`)
    const sink = (await status(env)).pipelines[0]?.sinks[0] as SinkStatus
    t.same([sink.failed, sink.dropped], [0, 0], 'the runner itself lost nothing: every loss is the guard’s')
    t.equal(flush.code, 1, `flush exits 1: entries were lost (${flush.stdout.trim()})`)
    const lost = Number(/main\/file: (\d+) entries lost since the last flush/.exec(flush.stdout)?.[1])
    t.equal(lost, guardDropped, `flush counts exactly the ${guardDropped} entries the guard dropped`)
    const again = await runCli(['flush', '--app', 'diskapp'], env)
    t.equal(again.code, 0, `a second flush with nothing new lost says flushed (${again.stdout.trim()})`)

    stopped = true
    compose.process.kill('SIGTERM')
    const exit = await compose.exit
    t.equal(exit.code, 0, 'compose stops cleanly')
    const totals = /^\s*main: \d+ in;.*$/m.exec(exit.stderr)?.[0] ?? ''
    t.match(
      totals,
      `dropped: file ${guardDropped}`,
      `the totals line counts the ${guardDropped} drops once: ${totals}`,
    )
    t.match(
      totals,
      `written: file ${onDisk};`,
      `and counts as written only the ${onDisk} entries that are in the file`,
    )
  },
)
