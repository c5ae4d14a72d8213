export { type DeadLetterHeader, HEADER_KEY } from './dead-letter.js'
export { definitions, webhookSink, webhookSink as default } from './definition.js'
export { type WebhookSinkDiagnosticCode, webhookSinkDiagnostics } from './diagnostics.js'
export { endpointLabel } from './endpoint.js'
export { type WebhookSinkErrorCode, webhookSinkErrorCodes } from './errors.js'
export type {
  AuthOptions,
  BatchOptions,
  Compression,
  DeadLetterOptions,
  Method,
  RetryPolicyOptions,
  WebhookSinkConfig,
  WebhookSinkOptions,
} from './options.js'
export { DEFAULT_RETRY_ON, webhookSinkOptions } from './options.js'
export { DISCORD, type PresetName, presetDefaults, presetNames, SLACK } from './presets/limits.js'
export { type ReplayContext, type ReplayResult, replay } from './replay.js'
export { backoffMs, retryAfterMs } from './retry-policy.js'
export type { WebhookSink, WebhookSinkContext, WebhookSinkStats } from './webhook-sink.js'
export { createWebhookSink, openWebhookSink } from './webhook-sink.js'
