// The collector's two byte loops, indexing frames (entry-index.ts) and
// rendering JSON lines (json-render.ts), also exist in C++ in the optional
// package @logkit/wire-native: the same columns, the same lines, byte for
// byte (tests run both over random and hostile frames), at a fraction of the
// CPU. It is loaded on first use, never by a producer, and only when
// installed: npm builds it with node-gyp as an optional dependency of this
// package and carries on without it when it cannot. The TypeScript stays the
// reference and the fallback.
//
// LOGKIT_WIRE=js uses the TypeScript even when the addon is there;
// LOGKIT_WIRE=native refuses to run without it (for benchmarks and tests
// that must not measure the fallback by accident).

import { createRequire } from 'node:module'
import { LogkitError } from '../errors.js'
import { LINE_KEYS } from '../format/json-bytes.js'

/** The addon's calls (packages/wire-native/native/wire.cc documents each). */
export interface WireNative {
  index(
    buf: Uint8Array,
    start: number,
    end: number,
    checkCrc: boolean,
    maxFrameSize: number,
    entries: ArrayBuffer,
    entryCapacity: number,
    frames: ArrayBuffer,
    frameCapacity: number,
    state: Float64Array,
  ): number
  render(
    entries: ArrayBuffer,
    entryCapacity: number,
    count: number,
    buf: Uint8Array,
    out: Uint8Array,
    from: number,
    to: number,
    selection: Int32Array | undefined,
    identityKey: Uint8Array,
    identity: Uint8Array,
    state: Float64Array,
  ): number
  findField(
    entries: ArrayBuffer,
    entryCapacity: number,
    count: number,
    buf: Uint8Array,
    rows: Int32Array,
    n: number,
    keys: readonly Uint8Array[],
    out: Int32Array,
  ): void
  crc32(buf: Uint8Array, start: number, end: number): number
  configure(keys: readonly Uint8Array[]): void
}

/** Which loops run: the addon's or the TypeScript's. */
export type WireImplementation = 'native' | 'js'

let loaded: WireNative | null | undefined

/** The addon, or undefined when it is not installed, fails to load, or LOGKIT_WIRE=js. */
export function wireNative(): WireNative | undefined {
  if (loaded === undefined) loaded = load()
  return loaded ?? undefined
}

/** The loops EntryIndex and JsonRenderer use unless told otherwise. */
export function wireImplementation(): WireImplementation {
  return wireNative() === undefined ? 'js' : 'native'
}

/**
 * The addon for the implementation asked for: 'js' none, 'native' the addon
 * or an error, undefined (not asked) the addon when it is there, or an error
 * under LOGKIT_WIRE=native.
 */
export function wireFor(implementation: WireImplementation | undefined): WireNative | undefined {
  if (implementation === 'js') return undefined
  if (implementation === 'native' || process.env.LOGKIT_WIRE === 'native') return requireWireNative()
  return wireNative()
}

/** The addon for a caller that asked for it by name: an error when it cannot be had. */
export function requireWireNative(): WireNative {
  const addon = wireNative()
  if (addon !== undefined) return addon
  throw new LogkitError(
    'LOGKIT_ERR_WIRE_NATIVE',
    process.env.LOGKIT_WIRE === 'js'
      ? 'the native wire loops were asked for, but LOGKIT_WIRE=js turns them off'
      : `@logkit/wire-native is not installed or its addon is not built (${loadError}): npm install @logkit/wire-native, which needs python3, make and a C++ compiler`,
  )
}

let loadError = ''

function load(): WireNative | null {
  if (process.env.LOGKIT_WIRE === 'js') return null
  try {
    const addon = createRequire(import.meta.url)('@logkit/wire-native') as WireNative
    const k = LINE_KEYS
    addon.configure([k.level, k.time, k.pid, k.hostname, k.app, k.name, k.seq, k.traceId, k.spanId, k.msg])
    return addon
  } catch (cause) {
    loadError = (cause as Error).message.split('\n')[0] ?? ''
    return null
  }
}
