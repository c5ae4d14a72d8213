export { addStats, buildPipeline, summaryLine, totalsLine } from './build.js'
export { run } from './cli.js'
export { type ComposeOptions, compose, PipelineRunner } from './compose.js'
export { didYouMean, levenshtein } from './did-you-mean.js'
export { type EmitOptions, emit } from './emit.js'
export { type CliErrorCode, cliErrorCodes, exitCodes } from './errors.js'
export {
  type ComponentPlan,
  checkManifest,
  formatProblem,
  type LoadResult,
  loadManifest,
  loadPlan,
  type ManifestPlan,
  type ManifestProblem,
  type PipelinePlan,
} from './manifest.js'
export { manifestSchema } from './manifest-schema.js'
export { PluginResolver, shortNames, wrapOperatorFactory } from './plugins.js'
export { installedDefinitions, manifestJsonSchema, schemaText } from './schema.js'
export { interpolate } from './yaml-tree.js'
