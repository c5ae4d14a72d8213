#!/usr/bin/env node
// The benchmark harness: logkit side by side with pino and winston in one run,
// reported as ratios (absolute numbers only as context).
//
//   npm run bench               full run (a few minutes on 2 cores)
//   npm run bench -- --quick    under a minute
//   npm run bench -- --only codec,producer
//
// Each scenario runs its contenders in interleaved rounds and reports the
// median round, so a noisy neighbour hurts every contender alike.

import { scenarios } from './scenarios.js'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const onlyArg = args.find((a) => a.startsWith('--only'))
const only = onlyArg
  ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',')
  : null

console.log(
  `logkit bench (${quick ? 'quick' : 'full'}) — node ${process.version}, ${process.platform}/${process.arch}`,
)
const started = Date.now()
// Quick mode keeps under a minute on 2 cores: the scenarios that run many
// processes for seconds each (SLOW) run only when named with --only.
const SLOW = new Set(['scaling', 'latency', 'rss', 'e2e', 'compose', 'nats'])
const skipped = []
for (const scenario of scenarios) {
  if (only && !only.includes(scenario.name)) continue
  if (quick && !only && SLOW.has(scenario.name)) {
    skipped.push(scenario.name)
    continue
  }
  console.log(`\n## ${scenario.name}: ${scenario.title}`)
  await scenario.run({ quick })
}
if (skipped.length > 0)
  console.log(`\nquick mode left out ${skipped.join(', ')}: run them with --only ${skipped.join(',')}`)
console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`)
