// `@logkit/core/producer`: what a producer process needs (the logger, the
// framing, the runtime directory and session files) without the collector's
// runtime, RxJS or zod, so that a worker that only logs starts fast.

export * from './codec.js'
export * from './crc32.js'
export * from './entry.js'
export * from './entry-writer.js'
export * from './errors.js'
export * from './fields.js'
export * from './frame.js'
export * from './frame-check.js'
export * from './frame-peek.js'
export * from './framing.js'
export * from './levels.js'
export * from './logger.js'
export * from './make-dirs.js'
export * from './process-wide.js'
export * from './runtime-dir.js'
export * from './safe-json.js'
export * from './serialize-error.js'
export * from './session.js'
export * from './time.js'
export type * from './transport.js'
