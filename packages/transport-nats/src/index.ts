export { CONNECT_GRACE_MS, clientOptions, connectError, serverLabel } from './connection.js'
export { definitions, natsSink, natsSink as default, natsSource } from './definition.js'
export { type NatsDiagnosticCode, natsDiagnostics } from './diagnostics.js'
export { type NatsErrorCode, natsErrorCodes } from './errors.js'
export { MessageMaker, type OutMessage, Subjects, subjectToken } from './messages.js'
export type { NatsSink, NatsSinkContext, NatsSinkStatus } from './nats-sink.js'
export { createNatsSink, ensureStream, openNatsSink } from './nats-sink.js'
export type { NatsSourceObservable, NatsSourceStatus } from './nats-source.js'
export { createNatsSource, ensureConsumer } from './nats-source.js'
export type {
  Encoding,
  NatsAuth,
  NatsConnectionOptions,
  NatsSinkConfig,
  NatsSourceConfig,
  NatsTls,
  Storage,
  StreamConfig,
} from './options.js'
export { natsSinkOptions, natsSourceOptions } from './options.js'
export { subjectMatches } from './subjects.js'
