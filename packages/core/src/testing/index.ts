export * from './conformance.js'
export * from './marbles.js'
export * from './memory-sink.js'
export * from './package-checks.js'
