// Child processes for the scenarios that measure whole processes: spawning a
// node script and collecting what it printed, reading another process's CPU
// and memory from /proc, running `logkit compose` as a user does, and
// counting the lines a file has so far.

import { spawn } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runtimePaths } from '@logkit/core/producer'

export const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))
const cliBin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url))

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Runs `node ...args` to its end; resolves { code, stdout }. A child that
 * outlives `timeoutMs` is killed and the promise rejects, so no scenario hangs.
 */
export function runNode(args, { env = {}, cwd, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve({ code, stdout })
      else reject(new Error(`node ${args.join(' ')} exited ${code ?? signal}`))
    })
  })
}

/** The `cpu USER SYSTEM` line (µs) a fixture prints at its end, as CPU µs in all. */
export function reportedCpuUs(stdout) {
  const match = /^cpu (\d+) (\d+)$/m.exec(stdout)
  if (!match) throw new Error(`no cpu line in ${JSON.stringify(stdout.slice(0, 200))}`)
  return Number(match[1]) + Number(match[2])
}

const TICK_US = 10_000 // 1 / CLK_TCK (100 Hz on Linux)

/** CPU µs (user + system) another live process has used so far, from /proc/PID/stat (10 ms ticks). */
export function cpuUsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // After the ")" closing the command name: state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[11]) + Number(rest[12])) * TICK_US
}

/** Resident set size (KiB) of a live process, from /proc/PID/status. */
export function rssKiBOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0)
}

/** The manifest a new user writes: the shm source and the file sink, every default kept (json). */
export function defaultManifest(app, logPath) {
  return `version: 1\napp: ${app}\npipelines:\n  main:\n    sources:\n      - use: shm\n    sinks:\n      - use: file\n        path: ${logPath}\n`
}

/**
 * Starts `logkit compose manifest.yaml` (the CLI's bin, as `npx logkit`
 * runs it) in `dir`, and resolves once its session file exists. `stop()`
 * sends SIGTERM and waits (bounded) for the clean exit.
 */
export async function startCompose({ dir, manifest, app, env }) {
  const file = join(dir, 'manifest.yaml')
  writeFileSync(file, manifest)
  const child = spawn(process.execPath, [cliBin, 'compose', file], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal)))
  const session = runtimePaths(app, env).sessionFile
  for (let i = 0; i < 400 && !existsSync(session); i++) {
    if (child.exitCode !== null) break
    await sleep(25)
  }
  if (!existsSync(session)) {
    child.kill('SIGKILL')
    throw new Error('logkit compose did not start (no session file after 10 s)')
  }
  return {
    pid: child.pid,
    /** Throws if the collector has exited (a run waiting on it would wait in vain). */
    check() {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`logkit compose exited early (${child.exitCode ?? child.signalCode})`)
    },
    async stop() {
      child.kill('SIGTERM')
      let timer
      const result = await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 20_000)))])
      clearTimeout(timer)
      if (result === undefined) {
        child.kill('SIGKILL')
        await exited
        throw new Error('logkit compose did not stop within 20 s of SIGTERM')
      }
    },
  }
}

/**
 * Counts the lines of a growing file that contain `needle` (every line when
 * none is given), reading only what was appended since the last call and only
 * up to its last complete line.
 */
export function lineCounter(path, needle) {
  const pattern = Buffer.from(needle ?? '\n')
  let offset = 0
  let lines = 0
  const chunk = Buffer.allocUnsafe(1 << 20)
  return () => {
    if (!existsSync(path)) return 0
    const fd = openSync(path, 'r')
    try {
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, offset)
        if (n <= 0) break
        const end = chunk.lastIndexOf(10, n - 1) + 1
        if (end === 0) break // no complete line yet
        for (let i = chunk.indexOf(pattern, 0); i !== -1 && i < end; i = chunk.indexOf(pattern, i + 1))
          lines++
        offset += end
      }
    } finally {
      closeSync(fd)
    }
    return lines
  }
}

/**
 * Waits until `count()` reaches `total` (polling every `everyMs`); throws
 * after `timeoutMs`, when the count has not moved for `stallMs`, or as soon
 * as `check()` throws.
 */
export async function waitForCount(
  count,
  total,
  { everyMs = 10, timeoutMs = 120_000, stallMs = 15_000, what = 'entries', check = () => {} } = {},
) {
  const deadline = Date.now() + timeoutMs
  let last = -1
  let lastChange = Date.now()
  for (;;) {
    const seen = count()
    if (seen >= total) return
    check()
    const now = Date.now()
    if (seen !== last) {
      last = seen
      lastChange = now
    }
    if (now > deadline || now - lastChange > stallMs) {
      const why = now > deadline ? `after ${timeoutMs / 1000} s` : `and none more for ${stallMs / 1000} s`
      throw Object.assign(new Error(`${seen} of ${total} ${what} ${why}`), { seen, total })
    }
    await sleep(everyMs)
  }
}
