// The corpus of broken manifests: each one gives its problem as
// `file:line:col message [CODE]` at the expected place, exit code 2, and starts
// nothing (no runtime directory, no session, no lock, no ring).

import { join } from 'node:path'
import t from 'tap'
import { loadManifest } from '../src/manifest.js'
import { isolatedEnv, listTree, manifests, runCli, runInProcess } from './helpers.js'

interface Case {
  readonly file: string
  /** line:col of the (first) problem. */
  readonly at: string
  readonly code: string
  /** A keyword of the message that is part of the contract (a name, a suggestion). */
  readonly keyword?: string
}

export const brokenCases: readonly Case[] = [
  { file: 'yaml-syntax.yaml', at: '6:5', code: 'LOGKIT_ERR_MANIFEST_YAML' },
  { file: 'yaml-tab.yaml', at: '5:1', code: 'LOGKIT_ERR_MANIFEST_YAML' },
  { file: 'duplicate-pipeline.yaml', at: '7:3', code: 'LOGKIT_ERR_MANIFEST_YAML' },
  { file: 'not-a-map.yaml', at: '1:1', code: 'LOGKIT_ERR_MANIFEST_TYPE' },
  { file: 'missing-app.yaml', at: '1:1', code: 'LOGKIT_ERR_MANIFEST_KEY_MISSING', keyword: '"app"' },
  { file: 'wrong-version.yaml', at: '1:10', code: 'LOGKIT_ERR_MANIFEST_VERSION' },
  {
    file: 'unknown-top-key.yaml',
    at: '1:1',
    code: 'LOGKIT_ERR_MANIFEST_KEY_MISSING',
    keyword: '"pipelines"',
  },
  { file: 'empty-pipelines.yaml', at: '3:12', code: 'LOGKIT_ERR_MANIFEST_PIPELINE_EMPTY' },
  { file: 'no-sinks.yaml', at: '4:3', code: 'LOGKIT_ERR_MANIFEST_PIPELINE_EMPTY', keyword: 'sinks' },
  { file: 'empty-sources.yaml', at: '5:5', code: 'LOGKIT_ERR_MANIFEST_PIPELINE_EMPTY', keyword: 'source' },
  { file: 'unknown-pipeline-key.yaml', at: '4:3', code: 'LOGKIT_ERR_MANIFEST_PIPELINE_EMPTY' },
  {
    file: 'unknown-source.yaml',
    at: '6:14',
    code: 'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN',
    keyword: 'did you mean "shm"',
  },
  {
    file: 'misspelled-operator.yaml',
    at: '8:14',
    code: 'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN',
    keyword: 'did you mean "rateLimit"',
  },
  {
    file: 'unknown-operator.yaml',
    at: '8:14',
    code: 'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN',
    keyword: 'deduplicate',
  },
  {
    file: 'missing-plugin.yaml',
    at: '8:14',
    code: 'LOGKIT_ERR_MANIFEST_PLUGIN_MISSING',
    keyword: 'sink "s3" needs @logkit/sink-s3: npm install @logkit/sink-s3',
  },
  { file: 'sink-as-source.yaml', at: '6:14', code: 'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN', keyword: '"file"' },
  {
    file: 'wrong-option-type.yaml',
    at: '9:20',
    code: 'LOGKIT_ERR_MANIFEST_OPTION_INVALID',
    keyword: 'perSecond',
  },
  {
    file: 'unknown-option.yaml',
    at: '10:9',
    code: 'LOGKIT_ERR_MANIFEST_OPTION_INVALID',
    keyword: 'rotation',
  },
  { file: 'missing-option.yaml', at: '8:9', code: 'LOGKIT_ERR_MANIFEST_OPTION_INVALID', keyword: 'path' },
  {
    file: 'nested-option.yaml',
    at: '11:17',
    code: 'LOGKIT_ERR_MANIFEST_OPTION_INVALID',
    keyword: 'rotate.size',
  },
  {
    file: 'missing-env.yaml',
    at: '9:15',
    code: 'LOGKIT_ERR_MANIFEST_ENV_MISSING',
    keyword: 'LOGKIT_TEST_UNSET_DIR',
  },
  { file: 'bad-env-ref.yaml', at: '8:15', code: 'LOGKIT_ERR_MANIFEST_TYPE' },
  { file: 'duplicate-id.yaml', at: '11:13', code: 'LOGKIT_ERR_MANIFEST_ID_DUPLICATE', keyword: '"out"' },
  { file: 'source-twice.yaml', at: '7:14', code: 'LOGKIT_ERR_MANIFEST_SOURCE_TWICE', keyword: 'line 6' },
  {
    file: 'source-options-differ.yaml',
    at: '11:14',
    code: 'LOGKIT_ERR_MANIFEST_SOURCE_OPTIONS',
    keyword: "pipeline all's (line 6)",
  },
  { file: 'bad-queue.yaml', at: '11:19', code: 'LOGKIT_ERR_MANIFEST_TYPE', keyword: 'policy' },
  { file: 'operator-path-missing.yaml', at: '8:14', code: 'LOGKIT_ERR_MANIFEST_PLUGIN_MISSING' },
  { file: 'operator-path-invalid.yaml', at: '8:14', code: 'LOGKIT_ERR_MANIFEST_PLUGIN_INVALID' },
  { file: 'sources-not-a-list.yaml', at: '5:14', code: 'LOGKIT_ERR_MANIFEST_TYPE' },
  { file: 'bad-app-name.yaml', at: '2:6', code: 'LOGKIT_ERR_MANIFEST_TYPE' },
  { file: 'many-problems.yaml', at: '6:14', code: 'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN' },
]

const env = { ...process.env }
delete env['LOGKIT_TEST_UNSET_DIR']

t.test('the corpus holds at least 20 broken manifests', async (t) => {
  t.ok(brokenCases.length >= 20, `${brokenCases.length} cases`)
})

for (const c of brokenCases) {
  t.test(`validate ${c.file}: ${c.code} at ${c.at}, exit 2`, async (t) => {
    const file = join(manifests, 'broken', c.file)
    const result = await runInProcess(['validate', file], env)
    t.equal(result.code, 2, 'exit code 2')
    const first = result.stderr.split('\n')[0] ?? ''
    t.ok(first.startsWith(`${file}:${c.at} `), `first line starts with file:${c.at} (got ${first})`)
    t.ok(first.endsWith(`[${c.code}]`), `first line ends with its code ${c.code}`)
    if (c.keyword !== undefined) t.ok(first.includes(c.keyword), `the message names ${c.keyword}`)
    t.equal(result.stdout, '', 'nothing on stdout')
  })
}

t.test('every problem of a manifest is reported at once, in file order', async (t) => {
  const result = await loadManifest(join(manifests, 'broken', 'many-problems.yaml'), { env })
  t.same(
    result.problems.map((p) => [`${p.line}:${p.col}`, p.code]),
    [
      ['6:14', 'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN'],
      ['8:14', 'LOGKIT_ERR_MANIFEST_PLUGIN_UNKNOWN'],
      ['10:20', 'LOGKIT_ERR_MANIFEST_OPTION_INVALID'],
      ['12:9', 'LOGKIT_ERR_MANIFEST_OPTION_INVALID'],
    ],
    'four problems, each at its node',
  )
  t.equal(result.plan, undefined, 'no plan')
})

t.test('compose refuses every broken manifest with exit 2 and starts nothing', async (t) => {
  // The built binary, as a user runs it; a few at a time (2 cores).
  const queue = [...brokenCases]
  const worker = async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      const isolated = isolatedEnv()
      const { work: _work, ...vars } = isolated
      const file = join(manifests, 'broken', c.file)
      const exit = await runCli(['compose', file], vars)
      t.equal(exit.code, 2, `${c.file}: exit 2`)
      t.ok(exit.stderr.includes(`${file}:${c.at} `), `${c.file}: the problem at ${c.at} is printed`)
      t.same(listTree(isolated.LOGKIT_RUNTIME_DIR), [], `${c.file}: no runtime directory, session or lock`)
      t.same(listTree(isolated.LOGKIT_SHM_DIR), [], `${c.file}: no ring`)
    }
  }
  await Promise.all([worker(), worker(), worker()])
})
