// `@logkit/core/wire`: the collector's byte path over logkit frames — the
// schema's named tags, an index of the entries in a range of frames, and the
// JSON line renderer that copies their bytes. Internals for logkit's own
// transports and sinks, behind a subpath (not the root export).

export { decodeEntry } from '../codec.js'
export * from './entry-batch.js'
export * from './entry-index.js'
export * from './json-render.js'
export * from './json-scan.js'
export * from './native.js'
export * from './tags.js'
