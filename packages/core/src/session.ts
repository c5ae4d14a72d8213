// Session files: how producers find their app's collector. The collector takes
// the app's lock, then writes session.json atomically (temp file and rename)
// saying who it is and which transports it listens on. Producers read it by app
// name. A second live collector for the same app is refused, naming the first
// one's pid.
//
// The lock (collector.lock) is atomic and owned:
//
// - Taking it: the lock's whole text ("<pid> <token>\n", the token unique to
//   this lock) is written to a private temp file, which is then link(2)ed to
//   collector.lock. link fails with EEXIST atomically when a lock is there, and
//   a lock is never seen half-written (an empty file is never a stale lock).
// - A stale lock (its pid is gone) is taken over only by whoever first creates
//   a takeover ticket named after that very lock (collector.lock.<inode>.takeover),
//   again with link(2). Holding the ticket, it checks the lock is
//   still the one it judged stale and removes it, then tries to take the lock
//   like everyone else. Only a ticket's holder removes a lock that is not its
//   own, so two collectors can never both remove, or one remove the other's
//   fresh lock. A ticket whose holder died is itself taken over the same way.
// - Giving it back: close() removes session.json and the lock only while the
//   lock is still this collector's (same inode, same text).
//
// flock(2) would be simpler, but Node has no flock without a native addon, and
// core has none; link(2), rename(2) and unlink(2) are all it needs.

import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { LogkitError } from './errors.js'
import { PROTOCOL_VERSION } from './frame.js'
import { processWide } from './process-wide.js'
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
  /** Removes session.json and the lock, if the lock is still this session's. */
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

/** A lock file as read: which file it was (device, inode) and its whole text. */
interface LockSeen {
  readonly dev: number
  readonly ino: number
  readonly text: string
}

function sameLock(a: LockSeen, b: LockSeen): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.text === b.text
}

/** The lock file at `path` as it is now; undefined when there is none. */
function readLock(path: string): LockSeen | undefined {
  let fd: number
  try {
    fd = openPrivateFile(path, constants.O_RDONLY)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const st = fstatSync(fd)
    return { dev: st.dev, ino: st.ino, text: readFileSync(fd, 'utf8') }
  } finally {
    closeSync(fd)
  }
}

/** The pid a lock's text starts with ("<pid> <token>", or "<pid>" as older versions wrote it); NaN if none. */
function lockPid(text: string): number {
  const match = /^(\d+)(?:\s|$)/.exec(text)
  return match === null ? Number.NaN : Number(match[1])
}

/**
 * A name no other file of any process has, for temp files and lock tokens.
 * The global Web Crypto loads node:crypto on first use, so a producer that
 * never takes a lock or writes a file does not pay for it at import.
 */
function uniqueToken(): string {
  return `${process.pid}.${crypto.randomUUID()}`
}

/**
 * Creates `path` holding exactly `text`, or returns undefined when something
 * is already there: `text` goes to a private temp file that is then linked to
 * `path` (EEXIST atomically; never visible half-written).
 */
function createComplete(path: string, text: string): LockSeen | undefined {
  const tmp = `${path}.${uniqueToken()}.tmp`
  const fd = openPrivateFile(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL)
  try {
    writeSync(fd, text)
    const st = fstatSync(fd)
    try {
      linkSync(tmp, path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined
      throw err
    }
    return { dev: st.dev, ino: st.ino, text }
  } finally {
    closeSync(fd)
    unlinkSync(tmp)
  }
}

/** The texts of the locks this process holds (one set for every copy of core, see process-wide.ts): a lock with this pid and another text was left by an earlier process with our pid (a restarted container's pid 1). */
const ownLocks = processWide('session.ownLocks', () => new Set<string>())

function lockHolderAlive(pid: number, text: string): boolean {
  return pid === process.pid ? ownLocks.has(text) : processAlive(pid)
}

function lockedError(app: string, pid: number, what: string): LogkitError {
  return new LogkitError(
    'LOGKIT_ERR_SESSION_LOCKED',
    `a collector for app "${app}" ${what} (pid ${pid}): stop it first, or run this one for another app`,
    { details: { app, pid } },
  )
}

/** How deep tickets of tickets go before the user is asked to clean up: each level needs a collector killed mid-takeover. */
const MAX_TICKET_DEPTH = 3

/**
 * Removes the stale lock `seen` at `path` if it is still there, holding the
 * takeover ticket of that very lock while it checks and removes. Returns
 * without removing anything when another process holds the ticket and it
 * finishes first; throws LOGKIT_ERR_SESSION_LOCKED when a live process holds it.
 */
function removeStale(path: string, seen: LockSeen, app: string, depth: number): void {
  // Named after the lock's inode: every process looking at this lock names the same ticket (an
  // inode is reused only once the lock is gone; the text is compared below).
  const ticket = `${path}.${seen.ino}.takeover`
  const mine = createComplete(ticket, `${process.pid} ${uniqueToken()}\n`)
  if (mine === undefined) {
    const other = readLock(ticket)
    if (other === undefined) return // its holder finished: look at the lock again
    const pid = lockPid(other.text)
    if (processAlive(pid)) throw lockedError(app, pid, 'is taking over the lock of a stopped one')
    if (depth + 1 >= MAX_TICKET_DEPTH) {
      throw new LogkitError(
        'LOGKIT_ERR_SESSION_LOCKED',
        `could not take over the stale lock of app "${app}": collectors were stopped while taking it over; if no collector runs for "${app}", remove ${path} and the files beside it ending in .takeover`,
        { details: { app, path } },
      )
    }
    // Its holder died while taking the lock over: that ticket is stale in turn.
    removeStale(ticket, other, app, depth + 1)
    return
  }
  try {
    // No one else can remove `seen` while this process holds its ticket.
    const now = readLock(path)
    if (now !== undefined && sameLock(now, seen)) unlinkSync(path)
  } finally {
    unlinkSync(ticket)
  }
}

/** Takes the app's lock; returns the lock as this process made it. */
function takeLock(lockFile: string, app: string): LockSeen {
  const text = `${process.pid} ${uniqueToken()}\n`
  for (let attempt = 0; attempt < 8; attempt++) {
    const mine = createComplete(lockFile, text)
    if (mine !== undefined) {
      ownLocks.add(text)
      return mine
    }
    const seen = readLock(lockFile)
    if (seen === undefined) continue // given back meanwhile: try again
    const holder = lockPid(seen.text)
    if (Number.isNaN(holder)) {
      throw new LogkitError(
        'LOGKIT_ERR_SESSION_LOCK_UNREADABLE',
        `the lock of app "${app}" (${lockFile}) holds no collector pid (found ${JSON.stringify(seen.text.slice(0, 40))}), so whether its collector runs cannot be told: if no collector runs for "${app}", remove the file`,
        { details: { app, path: lockFile } },
      )
    }
    if (lockHolderAlive(holder, seen.text)) throw lockedError(app, holder, 'is already running')
    // Stale: its collector is gone. Remove it (race-free), then try again.
    removeStale(lockFile, seen, app, 0)
  }
  throw new LogkitError(
    'LOGKIT_ERR_SESSION_LOCKED',
    `could not take the lock of app "${app}" (${lockFile}): other collectors kept taking and giving it back; try again`,
    { details: { app } },
  )
}

/** The collector side: lock the app, write its session file. */
export function openSession(
  app: string,
  { env = process.env, transports = {} }: { env?: RuntimeEnv; transports?: SessionInfo['transports'] } = {},
): Session {
  const paths = ensureAppDir(app, env)
  const lock = takeLock(paths.lockFile, app)
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
      ownLocks.delete(lock.text)
      // Someone removed this lock and another collector took the app meanwhile: its files stay.
      const now = readLock(paths.lockFile)
      if (now === undefined || !sameLock(now, lock)) return
      // The session file first: while the lock is held, no other collector writes one.
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

/** Sessions this process holds, shared by every source of the same app (shm and fifo alike), and by every copy of core (process-wide.ts). */
const held = processWide('session.held', () => new Map<string, { session: Session; users: number }>())

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
