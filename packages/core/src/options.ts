// `@logkit/core/options`: validating a plugin's options with zod (the very zod
// instance core validates with) without the collector's runtime or RxJS, for
// what runs in producer processes (a transport's options), where start-up
// time counts.

export { z } from 'zod'
export { PLUGIN_API_VERSION, validateOptions } from './plugin.js'
