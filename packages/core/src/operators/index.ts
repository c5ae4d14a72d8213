export { type BatchOptions, batch, batchDefinition } from './batch.js'
export { type CoreOperatorName, coreOperators } from './core-operators.js'
export { type DedupeOptions, dedupe, dedupeDefinition } from './dedupe.js'
export { type EnrichOptions, enrich, enrichDefinition } from './enrich.js'
export {
  compileFilter,
  type FieldCondition,
  type FilterOptions,
  filter,
  filterDefinition,
  type Pattern,
} from './filter.js'
export { type FormatOptions, format, formatDefinition } from './format.js'
export {
  HOLDS_ENTRIES,
  isHolding,
  markHolding,
  markTakesBatches,
  TAKES_BATCHES,
  takesBatches,
} from './holds.js'
export { type RateLimitKey, type RateLimitOptions, rateLimit, rateLimitDefinition } from './rate-limit.js'
export {
  type Censor,
  type PathSegment,
  parseRedactPath,
  type RedactOptions,
  redact,
  redactDefinition,
  WILDCARD,
} from './redact.js'
