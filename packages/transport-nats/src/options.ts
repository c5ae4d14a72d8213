// The options of `use: nats`, sink and source: the shapes users write, the zod
// schemas that validate them purely (no I/O: a creds file or TLS file is read
// when the component is created, not here), and the connection options both
// share. No message here ever repeats a password, token, seed or file content.

import { MAX_BATCH_ENTRIES, parseSize, z } from '@logkit/core'

/** user/password, token, an nkey seed, or a creds file (JWT + seed). */
export type NatsAuth =
  | { readonly user: string; readonly password: string }
  | { readonly token: string }
  | { readonly nkeySeed: string }
  | { readonly credsFile: string }

export interface NatsTls {
  /** CA certificate file (PEM) the server's certificate is checked against. */
  readonly ca?: string | undefined
  /** Client certificate and key files (PEM), for servers that verify clients. */
  readonly cert?: string | undefined
  readonly key?: string | undefined
}

/** What sink and source take to connect. */
export interface NatsConnectionOptions {
  /** Server URLs (nats://host:port); several for a cluster (default nats://127.0.0.1:4222). */
  readonly servers: readonly string[]
  readonly auth?: NatsAuth | undefined
  readonly tls?: NatsTls | undefined
  /** The connection's name, as the server's monitoring shows it (default logkit-<app>-<id>). */
  readonly name?: string | undefined
}

export type Encoding = 'frames' | 'ndjson'
export type Storage = 'file' | 'memory'

export interface StreamConfig {
  readonly name: string
  readonly subjects: readonly string[]
  /** Create the stream when it is missing (default true); false: require it. */
  readonly create: boolean
  readonly replicas: number
  readonly maxAgeMs: number
  readonly maxBytes: number
  readonly storage: Storage
  readonly duplicateWindowMs: number
}

export interface NatsSinkConfig extends NatsConnectionOptions {
  /** Subject template: {app}, {source} and {host} are the entry's (default logkit.{app}.{source}). */
  readonly subject: string
  readonly encoding: Encoding
  readonly stream: StreamConfig
  /** Messages published and not yet acknowledged by JetStream, at most (default 64). */
  readonly maxInFlight: number
  readonly maxMessageBytes: number
  readonly maxMessageEntries: number
  /** Time JetStream has to acknowledge one publish (default 10 000 ms). */
  readonly ackTimeoutMs: number
}

export interface NatsSourceConfig extends NatsConnectionOptions {
  readonly stream: string
  /** The durable consumer's name: collectors that give the same one share the work. */
  readonly durable: string
  /** Subjects the consumer takes (default: the stream's all). */
  readonly filter?: string | undefined
  readonly ackWaitMs: number
  readonly maxAckPending: number
  /** Messages asked for in one pull (default 64, at most maxAckPending). */
  readonly batch: number
}

const ms = (what: string, min = 0) =>
  z
    .number({ error: `expected ${what} in milliseconds` })
    .int({ error: `expected a whole number of milliseconds for ${what}` })
    .min(min, { error: `expected ${what} of ${min} ms or more` })
    .max(2 ** 31 - 1, { error: `expected ${what} below 2^31 ms` })

const count = (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: `expected ${what}` })
    .int({ error: `expected a whole number of ${what}` })
    .min(min, { error: `expected ${min} or more ${what}` })
    .max(max, { error: `expected at most ${max} ${what}` })

const size = (what: string, min = 1) =>
  z
    .union([z.number(), z.string()], { error: `expected ${what} as bytes or text such as '1MiB'` })
    .transform((value, ctx) => {
      const bytes = parseSize(value)
      if (bytes === undefined || bytes < min) {
        ctx.issues.push({
          code: 'custom',
          input: value,
          message: `expected ${what} of at least ${min} byte${min === 1 ? '' : 's'}, as bytes or text such as '1MiB', found ${JSON.stringify(value)}`,
        })
        return z.NEVER
      }
      return bytes
    })

/** One NATS subject token, or a wildcard pattern: no spaces, no empty tokens. */
const SUBJECT = /^[^\s.]+(\.[^\s.]+)*$/
const NAME = /^[A-Za-z0-9_-]+$/

const server = z.string({ error: 'expected a server URL such as nats://127.0.0.1:4222' }).refine(
  (text) => {
    try {
      const u = new URL(text.includes('://') ? text : `nats://${text}`)
      return (
        ['nats:', 'tls:', 'ws:', 'wss:'].includes(u.protocol) &&
        u.hostname !== '' &&
        u.username === '' &&
        u.password === ''
      )
    } catch {
      return false
    }
  },
  {
    error:
      'expected a server URL such as nats://127.0.0.1:4222, without a user, token or password in it (use auth); the value is not shown',
  },
)

const servers = z
  .union([server, z.array(server).min(1, { error: 'expected at least one server' })], {
    error: 'expected a server URL or a list of them',
  })
  .default('nats://127.0.0.1:4222')
  .transform((s) => (typeof s === 'string' ? [s] : s))
  .describe('Server URLs; several for a cluster (default nats://127.0.0.1:4222).')

const secret = (what: string) =>
  z.string({ error: `expected ${what} (text; it is not shown)` }).min(1, { error: `expected ${what}` })

const auth = z
  .union(
    [
      z.strictObject({ user: z.string().min(1), password: secret('a password') }),
      z.strictObject({ token: secret('a token') }),
      z.strictObject({ nkeySeed: secret('an nkey seed (SU…)') }),
      z.strictObject({ credsFile: z.string().min(1) }),
    ],
    {
      error:
        'expected one of { user, password }, { token }, { nkeySeed } or { credsFile } (values are not shown)',
    },
  )
  .optional()
  .describe(
    'Credentials: { user, password }, { token }, { nkeySeed } or { credsFile }; usually from environment variables.',
  )

const tls = z
  .strictObject(
    {
      ca: z.string().min(1).optional().describe('CA certificate file (PEM).'),
      cert: z.string().min(1).optional().describe('Client certificate file (PEM).'),
      key: z.string().min(1).optional().describe('Client key file (PEM).'),
    },
    { error: 'expected { ca, cert, key } (file paths)' },
  )
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    error: 'tls.cert and tls.key go together: give both or neither',
  })
  .optional()
  .describe('TLS: CA, client certificate and key files.')

const connection = {
  servers,
  auth,
  tls,
  name: z.string().min(1).optional().describe('Connection name shown by the server (default logkit-<app>).'),
}

const stream = z
  .strictObject({
    name: z
      .string()
      .regex(NAME, { error: 'expected a stream name: letters, digits, - and _' })
      .default('LOGKIT')
      .describe('Stream name (default LOGKIT).'),
    subjects: z
      .array(z.string().regex(SUBJECT, { error: 'expected a subject such as logkit.> ' }))
      .min(1)
      .default(['logkit.>'])
      .describe("Subjects the stream stores (default ['logkit.>'])."),
    create: z.boolean().default(true).describe('Create the stream when missing (default true).'),
    replicas: count('replicas', 1, 5)
      .default(1)
      .describe('Copies in a cluster (default 1; 3 for a 3-node cluster).'),
    maxAgeMs: ms('a maximum age').default(0).describe('Oldest message kept, ms (default 0: no limit).'),
    maxBytes: z
      .union([size('a stream size'), z.literal(-1)])
      .default(-1)
      .describe("Most bytes kept, e.g. '10GiB' (default -1: no limit)."),
    storage: z
      .enum(['file', 'memory'], { error: "expected 'file' or 'memory'" })
      .default('file')
      .describe('Storage (default file).'),
    duplicateWindowMs: ms('a duplicate window', 100)
      .default(120_000)
      .describe('How long message ids are remembered to drop re-publishes (default 120000).'),
  })
  .default({
    name: 'LOGKIT',
    subjects: ['logkit.>'],
    create: true,
    replicas: 1,
    maxAgeMs: 0,
    maxBytes: -1,
    storage: 'file',
    duplicateWindowMs: 120_000,
  })

/** Placeholders of the subject template. */
export const SUBJECT_FIELDS = ['app', 'source', 'host'] as const

/** A template is a subject once its placeholders are replaced by tokens. */
function subjectFits(template: string): boolean {
  return SUBJECT.test(template.replace(/\{(app|source|host)\}/g, 'x')) && !/[*>]/.test(template)
}

/** The schema of the sink `use: nats`. */
export const natsSinkOptions = z.strictObject({
  ...connection,
  subject: z
    .string()
    .refine(subjectFits, {
      error: 'expected a subject template such as logkit.{app}.{source} (tokens, no wildcards)',
    })
    .default('logkit.{app}.{source}')
    .describe('Subject template with {app}, {source}, {host} (default logkit.{app}.{source}).'),
  encoding: z
    .enum(['frames', 'ndjson'], { error: "expected 'frames' or 'ndjson'" })
    .default('frames')
    .describe('Payload: logkit frames (default) or NDJSON lines for other consumers.'),
  stream,
  maxInFlight: count('messages in flight', 1, 4096)
    .default(64)
    .describe('Messages published and not yet acknowledged, at most (default 64).'),
  maxMessageBytes: size('a message size', 1024)
    .default(512 * 1024)
    .describe("Most bytes of one message (default '512KiB'; the server's max_payload is 1MiB by default)."),
  // A central source emits a message's entries as one batch (at most
  // MAX_BATCH_ENTRIES): more would pass by the pipeline's demand.
  maxMessageEntries: count('entries per message', 1, MAX_BATCH_ENTRIES)
    .default(1000)
    .describe(`Most entries in one message (default 1000, at most ${MAX_BATCH_ENTRIES}).`),
  ackTimeoutMs: ms('an acknowledgement timeout', 1)
    .default(10_000)
    .describe('Time JetStream has to acknowledge one publish (default 10000).'),
})

natsSinkOptions satisfies z.ZodType<NatsSinkConfig, unknown>

/** The schema of the source `use: nats`. */
export const natsSourceOptions = z
  .strictObject({
    ...connection,
    stream: z
      .string()
      .regex(NAME, { error: 'expected a stream name: letters, digits, - and _' })
      .default('LOGKIT')
      .describe('Stream to read (default LOGKIT).'),
    durable: z
      .string({ error: 'expected the durable consumer name, e.g. central' })
      .regex(NAME, { error: 'expected a consumer name: letters, digits, - and _' })
      .describe('Durable consumer: collectors that name the same one share the work.'),
    filter: z
      .string()
      .regex(SUBJECT, { error: 'expected a subject or pattern such as logkit.myapp.>' })
      .optional()
      .describe('Subjects to take, e.g. logkit.myapp.> (default: all of the stream).'),
    ackWaitMs: ms('an ack wait', 1000)
      .default(30_000)
      .describe('Time a delivered message may stay unacknowledged before redelivery (default 30000).'),
    maxAckPending: count('messages pending acknowledgement', 1, 100_000)
      .default(256)
      .describe('Messages delivered and not yet acknowledged, at most (default 256).'),
    batch: count('messages per pull', 1, 10_000).default(64).describe('Messages per pull (default 64).'),
  })
  .transform((o): NatsSourceConfig => ({ ...o, batch: Math.min(o.batch, o.maxAckPending) }))

natsSourceOptions satisfies z.ZodType<NatsSourceConfig, unknown>
