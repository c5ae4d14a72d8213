// Contenders more than one scenario times: the same call through logkit's
// shm transport and through pino.transport (see measure.js compare()).

import { rmSync } from 'node:fs'
import { createEntry, createLogger } from '@logkit/core'
import { shm } from '@logkit/transport-shm'
import pino from 'pino'

/** The entry every scenario logs: pino's classic request line. */
export const fields = { reqId: 'c0ffee-42', userId: 1234, path: '/api/orders/42' }
export const message = 'request completed'

/** That line as a collector sees it, numbered `seq` (from `pid`, this process unless told). */
export function requestEntry(seq, pid = process.pid) {
  return createEntry({ msg: message, app: 'bench', source: 'http', hostname: 'bench-host', pid, seq, fields })
}

/**
 * createLogger on a fresh shm ring per round, large enough for the round (no
 * collector: nothing dropped), removed after it.
 */
export function shmContender(name, env, capacity = 64 * 1024 * 1024) {
  return {
    name,
    setup: () => {
      const transport = shm({ app: 'bench', source: 'http', capacity, env })
      return { transport, log: createLogger({ app: 'bench', source: 'http', transport }) }
    },
    round: (n, { log }) => {
      for (let i = 0; i < n; i++) log.info(fields, message)
    },
    teardown: async ({ log, transport }) => {
      if (log.stats.dropped > 0) throw new Error('bench ring dropped entries')
      await transport.close()
      rmSync(transport.ring.path)
    },
  }
}

/** pino + pino.transport(pino/file) into `file`; end() it once the rounds are done. */
export function pinoTransportContender(name, file) {
  const stream = pino.transport({ target: 'pino/file', options: { destination: file } })
  const log = pino(stream)
  return {
    name,
    round: (n) => {
      for (let i = 0; i < n; i++) log.info(fields, message)
    },
    // Let the worker catch up between rounds, untimed.
    teardown: () => new Promise((resolve) => stream.flush(resolve)),
    end: () => stream.end(),
  }
}
