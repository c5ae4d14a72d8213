// Real nats-server processes for the tests: a single JetStream server or a
// three-node cluster on 127.0.0.1, on free ports, with their stores in test
// folders (tempDir: removed at exit), killed in teardown (and at exit, however
// the test ended).

import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { tempDir } from '@logkit/core/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { Test } from 'tap'

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

  /** Starts the server and resolves once it says it is ready. */
  async start(): Promise<this> {
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
}

/** One JetStream server on a free port of 127.0.0.1, killed in t's teardown. */
export async function startServer(t: Test, options: ServerOptions = {}): Promise<NatsServer> {
  const dir = tempDir('logkit-nats-')
  const port = options.port ?? (await freePort())
  const config = join(dir, 'server.conf')
  writeFileSync(
    config,
    `listen: 127.0.0.1:${port}
server_name: single
jetstream { store_dir: "${join(dir, 'js')}", max_memory_store: 64MB, max_file_store: 1GB }
${options.extra ?? ''}
`,
  )
  const server = new NatsServer('single', port, config)
  t.teardown(() => server.stop())
  return server.start()
}

/** Three JetStream servers clustered on 127.0.0.1, killed in t's teardown. */
export async function startCluster(t: Test): Promise<NatsServer[]> {
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
  await Promise.all(servers.map((s) => s.start()))
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
