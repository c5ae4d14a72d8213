// One NATS connection, as sink and source use it: options built from the
// validated config (credentials read here, at creation, never printed),
// connecting in the background (a server that is down at start is waited for,
// reconnects are the client's own, forever), errors mapped to this package's
// codes, and the state `logkit status` shows (connected server, reconnects).

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { DiagnosticReporter } from '@logkit/core'
import {
  type ConnectionOptions,
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
} from '@nats-io/transport-node'
import { natsError } from './errors.js'
import type { NatsConnectionOptions } from './options.js'

/** How long create() waits for the first connection before going on without it (a server down at start). */
export const CONNECT_GRACE_MS = 2000

/** Client options for `config`: credentials and TLS files read now, their contents handed to the client (LOGKIT_ERR_NATS_CREDENTIALS, LOGKIT_ERR_NATS_TLS). */
export function clientOptions(config: NatsConnectionOptions, name: string, dir?: string): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: [...config.servers],
    name: config.name ?? name,
    maxReconnectAttempts: -1,
    // Credentials refused on a reconnect (changed or revoked, then mended) are
    // tried again like any other failure; by default the client would close
    // for good after two, leaving the sink stuck until a restart. The first
    // connection still fails at once on them (LOGKIT_ERR_NATS_AUTH).
    ignoreAuthErrorAbort: true,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    timeout: 5000,
    pingInterval: 5000,
    maxPingOut: 2,
  }
  const auth = config.auth
  if (auth !== undefined) {
    if ('user' in auth) Object.assign(options, { user: auth.user, pass: auth.password })
    else if ('token' in auth) options.token = auth.token
    else if ('nkeySeed' in auth) {
      if (!/^S[A-Z2-7]{20,}$/.test(auth.nkeySeed.trim())) {
        throw natsError(
          'LOGKIT_ERR_NATS_CREDENTIALS',
          'auth.nkeySeed is not an nkey seed (base32 text starting with S, such as SU…): check the value (it is not shown)',
          { retryable: false },
        )
      }
      options.authenticator = nkeyAuthenticator(new TextEncoder().encode(auth.nkeySeed.trim()))
    } else {
      const file = resolve(dir ?? '.', auth.credsFile)
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (cause) {
        throw natsError(
          'LOGKIT_ERR_NATS_CREDENTIALS',
          `auth.credsFile ${file} could not be read (${(cause as NodeJS.ErrnoException).code ?? 'error'}): check the path and its permissions`,
          { retryable: false },
        )
      }
      if (
        !text.includes('-----BEGIN NATS USER JWT-----') ||
        !text.includes('-----BEGIN USER NKEY SEED-----')
      ) {
        throw natsError(
          'LOGKIT_ERR_NATS_CREDENTIALS',
          `auth.credsFile ${file} is not a NATS creds file (a user JWT and an nkey seed, as nsc writes them)`,
          { retryable: false },
        )
      }
      options.authenticator = credsAuthenticator(new TextEncoder().encode(text))
    }
  }
  const tls = config.tls
  if (tls !== undefined) {
    // Read now, so that an unreadable file fails start-up (the client would
    // read it at each connection attempt and retry forever).
    const pem: Record<string, string> = {}
    for (const key of ['ca', 'cert', 'key'] as const) {
      const path = tls[key]
      if (path === undefined) continue
      const file = resolve(dir ?? '.', path)
      try {
        pem[key] = readFileSync(file, 'utf8')
      } catch (cause) {
        throw natsError(
          'LOGKIT_ERR_NATS_TLS',
          `tls.${key} ${file} could not be read (${(cause as NodeJS.ErrnoException).code ?? 'error'}): give the path of a readable PEM file`,
          { retryable: false },
        )
      }
    }
    options.tls = pem
  }
  return options
}

/** The error a failed connect() stands for, with no credential in it. */
export function connectError(err: unknown, servers: readonly string[]): Error {
  const name = (err as Error | undefined)?.name ?? ''
  const message = String((err as Error | undefined)?.message ?? err)
  const where = servers.map(serverLabel).join(', ')
  if (name === 'AuthorizationError' || /authori[sz]ation|authentication/i.test(message)) {
    return natsError(
      'LOGKIT_ERR_NATS_AUTH',
      `the NATS server at ${where} refused the credentials (authorization violation): check auth (user and password, token, nkey seed or creds file; the values are not shown)`,
      { retryable: false },
    )
  }
  if (/tls|certificate|ssl/i.test(message)) {
    return natsError(
      'LOGKIT_ERR_NATS_TLS',
      `TLS with the NATS server at ${where} failed (${message.slice(0, 200)}): check tls (ca, cert, key) and that the server speaks TLS`,
      { retryable: false },
    )
  }
  return natsError(
    'LOGKIT_ERR_NATS_CONNECT',
    `could not connect to the NATS server at ${where} (${message.slice(0, 200)}): check that nats-server runs (with -js) and the address`,
  )
}

/** A server URL as it may be shown: scheme, host and port, never a user or password. */
export function serverLabel(server: string): string {
  try {
    const u = new URL(server.includes('://') ? server : `nats://${server}`)
    return `${u.protocol}//${u.host}`
  } catch {
    return '(invalid URL)'
  }
}

/**
 * A connection made in the background and kept: `ready` resolves with it once
 * the first connection is made (rejects only on an error that retrying does
 * not mend: credentials, TLS), `close()` ends it.
 */
export class Connection {
  readonly ready: Promise<NatsConnection>
  nc: NatsConnection | undefined
  /** The server connected to now, '' while disconnected. */
  server = ''
  reconnects = 0
  disconnects = 0
  /** Why the first connection failed, when it did for good. */
  failure: Error | undefined
  #closed = false

  constructor(
    readonly options: ConnectionOptions,
    readonly report: DiagnosticReporter,
  ) {
    this.ready = this.#connect()
    // An error here is also the one every waiter gets; nobody need handle it twice.
    this.ready.catch(() => {})
  }

  get connected(): boolean {
    return this.server !== ''
  }

  async #connect(): Promise<NatsConnection> {
    const servers = (this.options.servers as string[] | undefined) ?? []
    let nc: NatsConnection
    // The first connection is retried here, not by the client
    // (waitOnFirstConnect), so that close() can stop the retrying.
    for (let attempt = 0; ; attempt++) {
      if (this.#closed)
        throw natsError('LOGKIT_ERR_NATS_CLOSED', 'the connection was closed before it was made')
      try {
        nc = await connect(this.options)
        break
      } catch (err) {
        const failure = connectError(err, servers)
        if ((failure as { retryable?: boolean }).retryable === false || this.#closed) {
          this.failure = failure
          throw failure
        }
        if (attempt === 0) this.report({ code: 'nats_disconnected', message: `${failure.message}; retrying` })
        await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** Math.min(attempt, 3))))
      }
    }
    this.nc = nc
    this.server = serverLabel(nc.getServer())
    if (this.#closed) await nc.close()
    void this.#watch(nc)
    return nc
  }

  async #watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.server = ''
        this.disconnects++
        this.report({
          code: 'nats_disconnected',
          message: `lost the connection to the NATS server ${serverLabel(s.server)}; reconnecting`,
        })
      } else if (s.type === 'reconnect') {
        this.server = serverLabel(nc.getServer())
        this.reconnects++
        this.report({
          code: 'nats_reconnected',
          message: `connected again, to the NATS server ${this.server}`,
        })
      }
    }
  }

  /** Ends the connection (a connection still being made is ended once made). */
  async close(): Promise<void> {
    this.#closed = true
    const nc = this.nc
    if (nc === undefined) return
    // What was published last (a source's acks) reaches the server first, when there is one.
    if (this.server !== '') await within(nc.flush(), 1000).catch(() => {})
    this.server = ''
    await nc.close().catch(() => {})
  }
}

/** `p`, or `undefined` once `ms` have passed (the timer does not hold the process). */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms)
    timer.unref()
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
