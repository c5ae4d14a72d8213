// The operators core ships, by the names a manifest's `use:` gives them.

import { batchDefinition } from './batch.js'
import { dedupeDefinition } from './dedupe.js'
import { enrichDefinition } from './enrich.js'
import { filterDefinition } from './filter.js'
import { formatDefinition } from './format.js'
import { rateLimitDefinition } from './rate-limit.js'
import { redactDefinition } from './redact.js'

/** The core operator definitions, keyed by manifest name. */
export const coreOperators = Object.freeze({
  filter: filterDefinition,
  rateLimit: rateLimitDefinition,
  format: formatDefinition,
  batch: batchDefinition,
  redact: redactDefinition,
  enrich: enrichDefinition,
  dedupe: dedupeDefinition,
})

export type CoreOperatorName = keyof typeof coreOperators
