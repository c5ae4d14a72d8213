// The multi-process demo: a collector for app "demoapp" (`logkit compose`
// as a child process) and three worker processes that log through shared
// memory and named pipes; one crashes on purpose. Ends by itself in ~10 s
// with the collector's totals.
//
//   npm run build && node examples/demo/main.js      (from the repository root)
//
//   main.js ── spawns ──▶ logkit compose manifest.yaml   (console: pretty lines; file: logs/demoapp.log)
//           └─ spawns ──▶ processor (shm) · validator (fifo) · indexer (shm, crashes)

import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const cli = resolve(here, '../../packages/cli/dist/bin.js')
const logFile = resolve(here, process.env.DEMO_LOGS ?? 'logs', 'demoapp.log')
if (!existsSync(cli)) {
  console.error('build first: npm run build (from the repository root)')
  process.exit(1)
}

// A private runtime directory and shared-memory directory, so the demo never
// meets another collector of "demoapp" on this machine.
const runtimeDir = mkdtempSync(join(tmpdir(), 'logkit-demo-'))
const shmDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'logkit-demo-'))
const env = { ...process.env, LOGKIT_RUNTIME_DIR: runtimeDir, LOGKIT_SHM_DIR: shmDir }
rmSync(logFile, { force: true })

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const started = performance.now()
const say = (text) => {
  const at = ((performance.now() - started) / 1000).toFixed(1)
  process.stderr.write(`\x1b[1mdemo +${at}s:\x1b[0m ${text}\n`)
}
const exited = (child) => new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })))

say('starting the collector: logkit compose examples/demo/manifest.yaml')
const collector = spawn(process.execPath, [cli, 'compose', 'manifest.yaml'], {
  cwd: here,
  env,
  stdio: 'inherit',
})
const collectorExit = exited(collector)
const sessionFile = join(runtimeDir, 'demoapp', 'session.json')
for (let i = 0; i < 100 && !existsSync(sessionFile); i++) await sleep(50)

const workers = [
  { name: 'processor', via: 'shm' },
  { name: 'validator', via: 'fifo' },
  { name: 'indexer', via: 'shm', crash: true },
]
say(`spawning ${workers.map((w) => `${w.name} (${w.via})`).join(', ')}; indexer will crash on purpose`)
const runs = workers.map((w) => {
  const args = [join(here, 'worker.js'), w.name, w.via, ...(w.crash ? ['crash'] : [])]
  const child = spawn(process.execPath, args, { cwd: here, env, stdio: 'inherit' })
  return exited(child).then((result) => ({ ...w, ...result }))
})
for (const run of await Promise.all(runs)) {
  const how = run.code === 0 ? 'exited cleanly' : `exited with code ${run.code ?? run.signal}`
  say(
    `${run.name} ${how}${run.crash ? ' (the crash was on purpose: what it logged is in its ring, which the collector drains whether the process lives or not)' : ''}`,
  )
}

// Give the collector a moment to reap the crashed producer (it reports
// producer_exited) and the rate limiter to summarise the burst.
await sleep(2500)
say('stopping the collector (SIGTERM): it drains, flushes and prints its totals')
collector.kill('SIGTERM')
let timer
const result = await Promise.race([collectorExit, new Promise((r) => (timer = setTimeout(r, 15_000)))])
clearTimeout(timer)
if (result === undefined) {
  collector.kill('SIGKILL')
  say('the collector did not stop in time')
}
const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : []
const fromIndexer = lines.filter((l) => l.includes('"name":"indexer"')).length
// The collector's own count: entries it read from the ring after the process was gone.
const exitedEntry = lines
  .map((l) => JSON.parse(l))
  .find((e) => e.code === 'producer_exited' && e.source === 'indexer')
const salvaged = exitedEntry?.salvaged ?? 0
say(
  `${lines.length} entries in ${logFile}: ${fromIndexer} from the crashed indexer, ${salvaged} of them read from its ring after it was gone (the rest while it ran)`,
)
rmSync(runtimeDir, { recursive: true, force: true })
rmSync(shmDir, { recursive: true, force: true })
process.exitCode = result?.code ?? 1
