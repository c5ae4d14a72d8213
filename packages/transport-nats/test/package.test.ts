// The standard package checks (no undeclared dependency, an exports map
// require.resolve can use), shared by every package through @logkit/core/testing.

import { packageChecks } from '@logkit/core/testing'
import t from 'tap'

await packageChecks(t, new URL('..', import.meta.url).pathname)
