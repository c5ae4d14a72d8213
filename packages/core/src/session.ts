// Session files: how producers find their app's collector. The collector takes
// the app's lock (a pid file created exclusively; a stale one, whose process is
// gone, is taken over), then writes session.json atomically (temp file and
// rename) saying who it is and which transports it listens on. Producers read
// it by app name. A second live collector for the same app is refused, naming
// the first one's pid.

import { closeSync, constants, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { LogkitError } from './errors.js'
import { PROTOCOL_VERSION } from './frame.js'
import {
  ensureAppDir,
  openPrivateFile,
  type RuntimeEnv,
  type RuntimePaths,
  readPrivateFile,
  runtimePaths,
} from './runtime-dir.js'
import { nowNs } from './time.js'

export interface SessionInfo {
  readonly app: string
  /** The collector's pid. */
  readonly pid: number
  /** When the collector started (ms since epoch). */
  readonly startedAt: number
  readonly protocol: number
  /** What each transport needs producers to know, by transport name (e.g. `{ fifo: { dir } }`). */
  readonly transports: Readonly<Record<string, Readonly<Record<string, unknown>>>>
}

export interface Session {
  readonly paths: RuntimePaths
  readonly info: SessionInfo
  /** Rewrites session.json with a transport's entry added or replaced. */
  setTransport(name: string, details: Readonly<Record<string, unknown>>): void
  /** Removes session.json and the lock. */
  close(): void
}

/** True when a process with this pid exists (signal 0 probes without sending). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Writes `text` to `path` atomically: a private temp file beside it, then rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.${nowNs()}.tmp`
  const fd = openPrivateFile(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL)
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}

function readPid(path: string): number {
  try {
    return Number.parseInt(readFileSync(path, 'utf8'), 10)
  } catch {
    return Number.NaN
  }
}

function takeLock(lockFile: string, app: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openPrivateFile(lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL)
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = readPid(lockFile)
    if (holder !== process.pid && processAlive(holder)) {
      throw new LogkitError(
        'LOGKIT_ERR_SESSION_LOCKED',
        `a collector for app "${app}" is already running (pid ${holder}): stop it first, or run this one for another app`,
        { details: { app, pid: holder } },
      )
    }
    // Stale: its collector is gone. Take it over.
    try {
      unlinkSync(lockFile)
    } catch {}
  }
  throw new LogkitError(
    'LOGKIT_ERR_SESSION_LOCKED',
    `could not take the lock of app "${app}" (${lockFile}): try again`,
  )
}

/** The collector side: lock the app, write its session file. */
export function openSession(
  app: string,
  { env = process.env, transports = {} }: { env?: RuntimeEnv; transports?: SessionInfo['transports'] } = {},
): Session {
  const paths = ensureAppDir(app, env)
  takeLock(paths.lockFile, app)
  let info: SessionInfo = {
    app,
    pid: process.pid,
    startedAt: Date.now(),
    protocol: PROTOCOL_VERSION,
    transports,
  }
  const write = () => writeFileAtomic(paths.sessionFile, `${JSON.stringify(info, null, 2)}\n`)
  write()
  let closed = false
  return {
    paths,
    get info() {
      return info
    },
    setTransport(name, details) {
      info = { ...info, transports: { ...info.transports, [name]: details } }
      write()
    },
    close() {
      if (closed) return
      closed = true
      for (const file of [paths.sessionFile, paths.lockFile]) {
        try {
          unlinkSync(file)
        } catch {}
      }
    },
  }
}

/**
 * The producer side: the session of `app`, if a live collector holds it.
 * Returns undefined when there is no session file or its collector is gone.
 */
export function readSession(app: string, env: RuntimeEnv = process.env): SessionInfo | undefined {
  const { sessionFile } = runtimePaths(app, env)
  let text: string
  try {
    text = readPrivateFile(sessionFile)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const info = JSON.parse(text) as SessionInfo
    return info.app === app && processAlive(info.pid) ? info : undefined
  } catch {
    return undefined
  }
}

/** Sessions this process holds, shared by every source of the same app (shm and fifo alike). */
const held = new Map<string, { session: Session; users: number }>()

export interface SessionHandle {
  readonly session: Session
  /** Gives the session back; the last user closes it. */
  release(): void
}

/**
 * The collector's session of `app`, shared within this process: the first
 * caller opens it (taking the app's lock), later callers share it, and the
 * last release() closes it. Sources call this, so one collector process holds
 * one lock per app however many transports it listens on.
 */
export function acquireSession(app: string, env: RuntimeEnv = process.env): SessionHandle {
  const key = `${runtimePaths(app, env).appDir}`
  let entry = held.get(key)
  if (entry === undefined) {
    entry = { session: openSession(app, { env }), users: 0 }
    held.set(key, entry)
  }
  entry.users++
  const current = entry
  let released = false
  return {
    session: current.session,
    release() {
      if (released) return
      released = true
      current.users--
      if (current.users === 0) {
        held.delete(key)
        current.session.close()
      }
    },
  }
}
