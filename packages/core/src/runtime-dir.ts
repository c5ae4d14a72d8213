// The runtime directory: where a collector and its producers meet.
//
//   $LOGKIT_RUNTIME_DIR, else $XDG_RUNTIME_DIR/logkit, else <tmp>/logkit-<uid>
//     <app>/                 0700, one per app: apps are fully isolated
//       session.json         0600, written atomically by the collector
//       collector.lock       0600, the collector's pid and token while it runs
//       …                    transports' files (pipes, sockets)
//   /dev/shm/logkit-<uid>/<app>/   0700, shared-memory rings (memory-backed, never disk I/O)
//
// logkit never changes the mode of a directory it did not create:
//
// - A directory that does not exist is created 0700 (its missing parents too).
// - An existing directory is used only when it is a real directory (not a
//   symlink), owned by this user and already private (no group or other
//   permission bits). One open to others is refused with
//   LOGKIT_ERR_RUNTIME_DIR_SHARED (make it private yourself, or point logkit
//   elsewhere); a symlink or a stranger's directory with
//   LOGKIT_ERR_RUNTIME_DIR_UNSAFE.
// - LOGKIT_RUNTIME_DIR naming a shared sticky directory (mode 1777: /tmp,
//   /var/tmp, /dev/shm) means "put it in there": logkit uses its own
//   logkit-<uid> inside it, as it does in the system temp dir, and leaves the
//   shared directory as it is.
//
// Every file is opened without following symlinks and created 0600.

import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LogkitError } from './errors.js'
import { makeDirs } from './make-dirs.js'

export interface RuntimeEnv {
  readonly LOGKIT_RUNTIME_DIR?: string | undefined
  readonly XDG_RUNTIME_DIR?: string | undefined
  /** Where memory-backed ring files go (default /dev/shm). */
  readonly LOGKIT_SHM_DIR?: string | undefined
}

export interface RuntimePaths {
  readonly runtimeDir: string
  readonly appDir: string
  readonly sessionFile: string
  readonly lockFile: string
  /** The app's directory on a memory-backed file system, for shared-memory rings. */
  readonly memoryDir: string
}

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

function uid(): number {
  return process.getuid?.() ?? 0
}

/** Throws LOGKIT_ERR_APP_NAME_INVALID unless `app` is safe as one path segment. */
export function checkAppName(app: string): string {
  if (!APP_NAME.test(app)) {
    throw new LogkitError(
      'LOGKIT_ERR_APP_NAME_INVALID',
      `app name ${JSON.stringify(app)} cannot name a directory: use letters, digits, '.', '_' and '-', starting with a letter or digit (at most 128)`,
    )
  }
  return app
}

/** The sticky bit (S_ISVTX): in such a directory only an entry's owner may rename or remove it. */
const STICKY = 0o1000

/** True for a directory every user may create entries in, each keeping their own (mode 1777, like /tmp). */
function sharedStickyDir(path: string): boolean {
  try {
    const st = lstatSync(path)
    return st.isDirectory() && (st.mode & STICKY) !== 0 && (st.mode & 0o002) !== 0
  } catch {
    return false
  }
}

/**
 * The runtime directory for this environment (not created): LOGKIT_RUNTIME_DIR
 * (or logkit-<uid> inside it when it names a shared sticky directory such as
 * /tmp), else $XDG_RUNTIME_DIR/logkit, else <tmp>/logkit-<uid>.
 */
export function runtimeDir(env: RuntimeEnv = process.env): string {
  const given = env.LOGKIT_RUNTIME_DIR
  if (given) return sharedStickyDir(given) ? join(given, `logkit-${uid()}`) : given
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'logkit')
  return join(tmpdir(), `logkit-${uid()}`)
}

/** The paths of an app's session (not created). */
export function runtimePaths(app: string, env: RuntimeEnv = process.env): RuntimePaths {
  const dir = runtimeDir(env)
  const appDir = join(dir, checkAppName(app))
  return {
    runtimeDir: dir,
    appDir,
    sessionFile: join(appDir, 'session.json'),
    lockFile: join(appDir, 'collector.lock'),
    memoryDir: join(env.LOGKIT_SHM_DIR ?? '/dev/shm', `logkit-${uid()}`, app),
  }
}

function unsafe(path: string, why: string): never {
  throw new LogkitError(
    'LOGKIT_ERR_RUNTIME_DIR_UNSAFE',
    `${path} ${why}: logkit keeps its runtime files private to their user; remove it or point LOGKIT_RUNTIME_DIR elsewhere`,
    { details: { path } },
  )
}

/**
 * Makes `path` a private directory: creates it 0700 (missing parents too,
 * 0700), or checks that an existing one is a real directory, owned by this
 * user and already private. Never changes the mode of a directory it did not
 * create. Throws LOGKIT_ERR_RUNTIME_DIR_UNSAFE for a symlink, a non-directory
 * or a stranger's directory, LOGKIT_ERR_RUNTIME_DIR_SHARED for one of ours
 * that is open to other users.
 */
export function ensurePrivateDir(path: string): string {
  let created = false
  try {
    // The first directory it made, if any: then `path` itself is new, made 0700 (umask only removes bits).
    created = makeDirs(path, 0o700) !== undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const st = lstatSync(path)
  if (st.isSymbolicLink()) unsafe(path, 'is a symlink')
  if (!st.isDirectory()) unsafe(path, 'is not a directory')
  if (st.uid !== uid()) unsafe(path, `is owned by uid ${st.uid}, not ${uid()}`)
  if (!created && (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0')
    throw new LogkitError(
      'LOGKIT_ERR_RUNTIME_DIR_SHARED',
      `${path} is mode ${mode}, open to other users, where logkit expected a private directory (0700); logkit did not create it and does not change its mode: run \`chmod 700 ${path}\` if it is yours to make private, or set LOGKIT_RUNTIME_DIR to a path that does not exist yet (logkit creates it 0700) or to a shared sticky directory such as /tmp (logkit uses logkit-<uid> inside it)`,
      { details: { path, mode } },
    )
  }
  return path
}

/** The app's session paths, with the app directory made private. */
export function ensureAppDir(app: string, env: RuntimeEnv = process.env): RuntimePaths {
  const paths = runtimePaths(app, env)
  ensurePrivateDir(paths.runtimeDir)
  ensurePrivateDir(paths.appDir)
  return paths
}

/**
 * Opens a file without following a symlink at its place; created 0600. Checks
 * the file it got belongs to this user. Returns the fd.
 */
export function openPrivateFile(path: string, flags: number, mode = 0o600): number {
  let fd: number
  try {
    fd = openSync(path, flags | constants.O_NOFOLLOW, mode)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') unsafe(path, 'is a symlink')
    throw err
  }
  const st = fstatSync(fd)
  if (st.uid !== uid()) {
    closeSync(fd)
    unsafe(path, `is owned by uid ${st.uid}, not ${uid()}`)
  }
  return fd
}

/** The text of a private file, read without following a symlink and checked to be ours. */
export function readPrivateFile(path: string): string {
  const fd = openPrivateFile(path, constants.O_RDONLY)
  try {
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}
