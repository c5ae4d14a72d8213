export { default, definitions, fifoSource, stdinSource } from './definitions.js'
export * from './errors.js'
export { createFifoSource, type FifoSourceOptions } from './fifo-source.js'
export {
  type FifoTransport,
  type FifoTransportOptions,
  type FifoTransportStats,
  fifo,
} from './fifo-transport.js'
export type { BufferPolicy } from './frame-queue.js'
export { parseLine } from './ndjson.js'
export { createStdinSource, type StdinSourceOptions } from './stdin-source.js'
