// The errors @logkit/transport-shm can raise; the README has one row per code
// and a test keeps them in step.

export const shmErrorCodes = {
  LOGKIT_ERR_SHM_ADDON: 'The native addon that maps ring files is not built or cannot be loaded.',
  LOGKIT_ERR_SHM_RING_INVALID: 'A ring file has a bad magic, layout version or capacity.',
  LOGKIT_ERR_SHM_CAPACITY: 'A ring capacity is not a power of two between 64 KiB and 1 GiB.',
  LOGKIT_ERR_SHM_UNAVAILABLE: 'The memory-backed directory for rings does not exist.',
  LOGKIT_ERR_SHM_NO_SPACE:
    'The shared-memory file system has no room for a ring, not even of the smallest capacity.',
} as const

export type ShmErrorCode = keyof typeof shmErrorCodes
