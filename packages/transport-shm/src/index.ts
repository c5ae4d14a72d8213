export { type SetLevelOptions, setProducerLevel } from './control.js'
export * from './errors.js'
export * from './layout.js'
export {
  type ShmFactoryOptions,
  type ShmOptions,
  type ShmPolicy,
  type ShmTransport,
  shm,
} from './producer.js'
export { checkCapacity, Ring } from './ring.js'
export { createShmSource, type ShmSourceOptions, shmSource, shmSource as default } from './source.js'

import { shmSource } from './source.js'

/** The manifest components of this package, by name. */
export const definitions = { shm: shmSource }
