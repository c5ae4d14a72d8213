// Real nats-server processes for the tests: a single JetStream server or a
// three-node cluster on 127.0.0.1, on free ports, with their stores in test
// folders (tempDir: removed at exit), killed in teardown (and at exit, however
// the test ended).

import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { tempDir, waitFor } from '@logkit/core/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { Test } from 'tap'
import { createNatsSource, natsSourceOptions } from '../src/index.js'

const live = new Set<ChildProcess>()
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL')
})

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

export class NatsServer {
  proc: ChildProcess | undefined
  log = ''
  readonly url: string

  constructor(
    readonly name: string,
    readonly port: number,
    readonly config: string,
  ) {
    this.url = `nats://127.0.0.1:${port}`
  }

  /**
   * Starts the server and resolves once it says it is ready. Its port taken
   * meanwhile by another process (a restart, or a free port handed out twice):
   * tried again, a few times.
   */
  async start(): Promise<this> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#start()
      } catch (err) {
        if (!/address already in use/i.test(String((err as Error).message)) || attempt >= 20) throw err
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  }

  async #start(): Promise<this> {
    const proc = spawn('nats-server', ['-c', this.config], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.proc = proc
    live.add(proc)
    this.log = ''
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        this.log += chunk.toString()
        if (this.log.includes('Server is ready')) resolve()
      }
      proc.stdout?.on('data', onData)
      proc.stderr?.on('data', onData)
      proc.once('exit', (code) => {
        live.delete(proc)
        reject(new Error(`nats-server ${this.name} exited (${code}): ${this.log.slice(-2000)}`))
      })
    })
    return this
  }

  /** Rewrites its configuration with `edit`, and resolves once the server says it reloaded it (SIGHUP). */
  async reload(edit: (config: string) => string): Promise<void> {
    writeFileSync(this.config, edit(readFileSync(this.config, 'utf8')))
    const before = this.log.split('Reloaded').length
    this.proc?.kill('SIGHUP')
    await waitFor(() => this.log.split('Reloaded').length > before, 'the server to reload its configuration')
  }

  /** Kills the server (SIGKILL unless told) and waits for it to be gone. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const gone = new Promise((r) => proc.once('exit', r))
    proc.kill(signal)
    await gone
    live.delete(proc)
    this.proc = undefined
  }
}

export interface ServerOptions {
  /** Extra lines of the config file (authorization, …). */
  readonly extra?: string
  readonly port?: number
  /** false: a server without JetStream. */
  readonly jetstream?: boolean
}

/** One JetStream server on a free port of 127.0.0.1, killed in t's teardown. */
export async function startServer(t: Test, options: ServerOptions = {}): Promise<NatsServer> {
  // A free port may be taken by another test's server before this one binds it: a new port then.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startServerOnce(t, options)
    } catch (err) {
      if (options.port !== undefined || !/address already in use/i.test(String(err)) || attempt >= 5)
        throw err
    }
  }
}

async function startServerOnce(t: Test, options: ServerOptions): Promise<NatsServer> {
  const dir = tempDir('logkit-nats-')
  const port = options.port ?? (await freePort())
  const config = join(dir, 'server.conf')
  writeFileSync(
    config,
    `listen: 127.0.0.1:${port}
server_name: single
${options.jetstream === false ? '' : `jetstream { store_dir: "${join(dir, 'js')}", max_memory_store: 64MB, max_file_store: 1GB }`}
${options.extra ?? ''}
`,
  )
  const server = new NatsServer('single', port, config)
  t.teardown(() => server.stop())
  return server.start()
}

/** Three JetStream servers clustered on 127.0.0.1, killed in t's teardown. */
export async function startCluster(t: Test): Promise<NatsServer[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startClusterOnce(t)
    } catch (err) {
      if (!/address already in use/i.test(String(err)) || attempt >= 5) throw err
    }
  }
}

async function startClusterOnce(t: Test): Promise<NatsServer[]> {
  const dir = tempDir('logkit-nats-cluster-')
  const ports = [await freePort(), await freePort(), await freePort()]
  const routes = [await freePort(), await freePort(), await freePort()]
  const servers = ports.map((port, i) => {
    const config = join(dir, `n${i}.conf`)
    writeFileSync(
      config,
      `listen: 127.0.0.1:${port}
server_name: n${i}
jetstream { store_dir: "${join(dir, `js${i}`)}", max_memory_store: 64MB, max_file_store: 1GB }
cluster {
  name: logkit
  listen: 127.0.0.1:${routes[i]}
  routes: [${routes
    .filter((_, k) => k !== i)
    .map((p) => `nats-route://127.0.0.1:${p}`)
    .join(', ')}]
}
`,
    )
    return new NatsServer(`n${i}`, port, config)
  })
  for (const s of servers) t.teardown(() => s.stop())
  const started = await Promise.allSettled(servers.map((s) => s.start()))
  const failed = started.find((r) => r.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all(servers.map((s) => s.stop()))
    throw failed.reason
  }
  return servers
}

/** A client connection for the test's own looks (stream info), closed in teardown. */
export async function client(t: Test, servers: string | string[]): Promise<NatsConnection> {
  const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 })
  t.teardown(() => nc.close())
  return nc
}

/** Messages stored on a stream (0 when it does not exist yet). */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc)
  try {
    return (await jsm.streams.info(stream)).state.messages
  } catch {
    return 0
  }
}

/**
 * How a source on its own ends: with its error, 'completed', or 'still
 * running' after a minute. Its options are parsed as a manifest's would be.
 */
export function sourceEnd(options: Record<string, unknown>): Promise<unknown> {
  const noop = () => {}
  return Promise.race([
    new Promise<unknown>((resolve) => {
      createNatsSource(natsSourceOptions.parse(options), {
        demand: { paused: false, ready: async () => {}, onResume: () => noop },
        signal: new AbortController().signal,
        report: noop,
        onAck: noop,
      }).subscribe({ error: resolve, complete: () => resolve('completed') })
    }),
    new Promise((r) => setTimeout(() => r('still running'), 60_000).unref()),
  ])
}
