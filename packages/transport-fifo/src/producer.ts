// `@logkit/transport-fifo/producer`: the transport alone, for processes that
// only log. It loads the core's producer entry point and zod (for its
// options), not the collector's runtime or RxJS.

export * from './errors.js'
export {
  type FifoFactoryOptions,
  type FifoTransport,
  type FifoTransportOptions,
  type FifoTransportStats,
  fifo,
} from './fifo-transport.js'
export type { BufferPolicy } from './frame-queue.js'
