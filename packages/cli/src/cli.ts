// The `logkit` command line (commander). Each command is a thin wrapper over a
// function of its own file; this file only parses, prints and picks exit codes:
// 0 ok, 1 runtime failure, 2 invalid manifest or command line.

import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { isLogkitError, levelNames } from '@logkit/core'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { parse as parseYaml } from 'yaml'
import { summaryLine } from './build.js'
import { compose } from './compose.js'
import { type FlushReply, flushLines, grepMatcher, missedLine, request, statusLines } from './control.js'
import { emit } from './emit.js'
import { exitCodes } from './errors.js'
import { formatProblem, loadManifest } from './manifest.js'
import { removePidFile, writePidFile } from './pid-file.js'
import { replay } from './replay.js'
import { schemaText } from './schema.js'
import { tailWeb } from './tail-web.js'
import { interpolate } from './yaml-tree.js'

export interface Io {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly env: NodeJS.ProcessEnv
}

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version

const appName = (value: string): string => {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value)) {
    throw new InvalidArgumentError('expected an app name of letters, digits, ".", "_" or "-"')
  }
  return value
}

/** `--grep`: checked here as the collector will check it, so a bad pattern is a usage error (exit 2). */
const grepPattern = (value: string): string => {
  try {
    grepMatcher(value)
  } catch (err) {
    const code = (err as { code?: string }).code
    throw new InvalidArgumentError(
      `${err instanceof Error ? err.message : String(err)}${code === undefined ? '' : ` [${code}]`}`,
    )
  }
  return value
}

interface AppOptions {
  readonly app?: string
  readonly manifest?: string
}

/**
 * The app a control command asks: --app, else the `app:` of --manifest, else
 * of logkit.yaml in the current folder. Only the manifest's `app` is read:
 * its plugins need not be installed here.
 */
function appOf(opts: AppOptions, env: NodeJS.ProcessEnv): string {
  if (opts.app !== undefined) return opts.app
  const file = opts.manifest ?? (existsSync('logkit.yaml') ? 'logkit.yaml' : undefined)
  if (file === undefined) {
    throw new CommanderError(
      2,
      'logkit.app',
      'error: which app? give --app NAME, or --manifest FILE (or run it where logkit.yaml is)',
    )
  }
  let app: unknown
  try {
    app = (parseYaml(readFileSync(file, 'utf8')) as { app?: unknown } | null)?.app
  } catch (err) {
    throw new CommanderError(
      2,
      'logkit.app',
      `error: ${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    )
  }
  if (typeof app !== 'string') {
    throw new CommanderError(
      2,
      'logkit.app',
      `error: ${file} names no app (its \`app:\` key): give --app NAME`,
    )
  }
  // `app: ${APP}` as compose reads it.
  const missing: string[] = []
  const bad: string[] = []
  app = interpolate(app, env, missing, bad)
  if (missing.length > 0 || bad.length > 0) {
    throw new CommanderError(
      2,
      'logkit.app',
      `error: ${file}: its app needs ${[...missing, ...bad].join(', ')}, not set here: set it, or give --app NAME`,
    )
  }
  try {
    return appName(app as string)
  } catch {
    throw new CommanderError(
      2,
      'logkit.app',
      `error: ${file}: app ${JSON.stringify(app)} is not a valid app name`,
    )
  }
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`
}

/** Runs the CLI; resolves with the exit code (bin.ts exits with it). */
export async function run(
  argv: readonly string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let code: number = exitCodes.ok
  const program = new Command('logkit')
    .description(
      'Collect structured logs from the processes of an app, run them through operators, deliver them to sinks.',
    )
    .version(version, '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `${examples([
        'logkit validate manifest.yaml',
        'logkit compose manifest.yaml',
        'echo \'{"level":"warn","msg":"disk low"}\' | logkit emit --app demoapp --source cron',
      ])}\nExit codes: 0 ok, 1 runtime failure, 2 invalid manifest or command line.\n`,
    )

  program
    .command('compose')
    .description(
      'Validate a manifest, run its pipelines until SIGINT/SIGTERM, then drain, flush and print totals.',
    )
    .argument('<file>', 'the manifest (YAML)')
    .option('--restart', 'restart a pipeline that fails, with backoff, while the others keep running')
    .option(
      '--pid-file <file>',
      "write the collector's pid to this file (0600) while it runs, for process managers and kill: under npx, the pid npx shows is not the collector's",
    )
    .addHelpText(
      'after',
      `${examples(['logkit compose manifest.yaml', 'logkit compose --restart examples/demo/manifest.yaml', 'ALERT_WEBHOOK_URL=https://… logkit compose prod.yaml'])}\nPrints one line per pipeline on stderr (sources → operators → sinks), and the totals when it stops.\nExit codes: 0 clean shutdown, 1 a pipeline failed, 2 invalid manifest.\n`,
    )
    .action(async (file: string, opts: { restart?: boolean; pidFile?: string }) => {
      const pidFile = opts.pidFile === undefined ? undefined : writePidFile(opts.pidFile)
      const abort = new AbortController()
      let signals = 0
      const onSignal = (signal: NodeJS.Signals) => {
        signals++
        if (signals === 1) {
          abort.abort()
          return
        }
        io.stderr.write(`logkit: ${signal} again: exiting without draining\n`)
        process.exit(130)
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      try {
        code = await compose(file, {
          env: io.env,
          restart: opts.restart === true,
          out: io.stderr as never,
          signal: abort.signal,
        })
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
        if (pidFile !== undefined) removePidFile(pidFile)
      }
    })

  program
    .command('validate')
    .description('Check a manifest without running it: every problem as file:line:col message.')
    .argument('<file>', 'the manifest (YAML)')
    .option('--json', 'print the result as JSON ({ ok, problems: [{ line, col, code, message }] })')
    .addHelpText(
      'after',
      `${examples(['logkit validate manifest.yaml', 'logkit validate --json manifest.yaml | jq .problems'])}\nExit codes: 0 valid, 2 invalid (nothing is started either way).\n`,
    )
    .action(async (file: string, opts: { json?: boolean }) => {
      const result = await loadManifest(file, { env: io.env })
      if (opts.json === true) {
        io.stdout.write(
          `${JSON.stringify({ ok: result.plan !== undefined, file, problems: result.problems })}\n`,
        )
      } else if (result.plan === undefined) {
        for (const problem of result.problems) io.stderr.write(`${formatProblem(file, problem)}\n`)
        io.stderr.write(
          `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${file}\n`,
        )
      } else {
        io.stdout.write(`${file}: ok (app ${result.plan.app})\n`)
        for (const pipeline of result.plan.pipelines) io.stdout.write(`  ${summaryLine(pipeline)}\n`)
      }
      code = result.plan === undefined ? exitCodes.usage : exitCodes.ok
    })

  program
    .command('schema')
    .description(
      "Print the manifest's JSON Schema (for editors), built from the plugins this CLI can resolve.",
    )
    .option('-o, --out <file>', 'write it to a file instead of stdout')
    .addHelpText('after', examples(['logkit schema > logkit.schema.json', 'logkit schema --out schema.json']))
    .action(async (opts: { out?: string }) => {
      const text = await schemaText()
      if (opts.out === undefined) io.stdout.write(text)
      else writeFileSync(opts.out, text)
    })

  program
    .command('emit')
    .description('Send standard input lines (NDJSON or text) as entries of one producer of an app.')
    .requiredOption('--app <name>', 'the app whose collector receives them', appName)
    .option('--source <name>', 'the source (module) the entries come from', 'emit')
    .addOption(new Option('--via <transport>', 'the transport').choices(['shm', 'fifo']).default('fifo'))
    .addOption(
      new Option('--level <level>', 'level of text lines and of JSON lines without one')
        .choices(levelNames)
        .default('info'),
    )
    .addHelpText(
      'after',
      examples([
        "echo 'backup done' | logkit emit --app demoapp --source cron",
        'tail -f app.ndjson | logkit emit --app demoapp --source legacy --via shm',
      ]),
    )
    .action(
      async (opts: {
        app: string
        source: string
        via: 'shm' | 'fifo'
        level: (typeof levelNames)[number]
      }) => {
        const result = await emit({ app: opts.app, source: opts.source, via: opts.via, level: opts.level })
        if (result.dropped > 0) {
          io.stderr.write(`logkit emit: ${result.written} written, ${result.dropped} dropped\n`)
          code = exitCodes.failure
        }
      },
    )

  /** --app, or the app of a manifest (--manifest, else logkit.yaml in this folder). */
  const appOption = () => new Option('--app <name>', 'the app whose collector to ask').argParser(appName)
  const manifestOption = () =>
    new Option(
      '-m, --manifest <file>',
      'without --app: the app of this manifest (default: logkit.yaml in the current folder, when there is one)',
    )

  program
    .command('tail')
    .description("Print the collector's recent entries, then follow live (pretty, coloured on a terminal).")
    .addOption(appOption())
    .addOption(manifestOption())
    .addOption(new Option('--level <level>', 'only entries at this level or above').choices(levelNames))
    .option('--source <name>', 'only entries of this source (module)')
    .option(
      '--grep <regexp>',
      'only entries whose message matches (a regular expression of at most 256 characters, run in linear time: no backreferences or lookaround)',
      grepPattern,
    )
    .option(
      '-n, --lines <count>',
      'how many recent entries to print first',
      (v) => Number.parseInt(v, 10),
      100,
    )
    .option('--no-follow', 'print the recent entries and exit')
    .option('--json', 'print NDJSON instead of pretty lines')
    .option('--web', 'serve a live web view instead (needs @logkit/sink-http); prints its URL')
    .option(
      '--host <address>',
      'with --web: address to listen on (default 127.0.0.1; beyond it, LOGKIT_WEB_TOKEN)',
    )
    .option('--port <port>', 'with --web: port (default 4780; 0: any free port)', (v) =>
      Number.parseInt(v, 10),
    )
    .addHelpText(
      'after',
      examples([
        'logkit tail --app demoapp',
        'logkit tail --app demoapp --level warn --source indexer',
        "logkit tail --app demoapp --grep 'timeout|refused' -n 20 --no-follow",
        'logkit tail --app demoapp --web --port 4780',
      ]),
    )
    .action(
      async (opts: {
        app?: string
        manifest?: string
        level?: string
        source?: string
        grep?: string
        lines: number
        follow: boolean
        json?: boolean
        web?: boolean
        host?: string
        port?: number
      }) => {
        const abort = new AbortController()
        const stop = () => abort.abort()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        try {
          if (opts.web === true && (opts.json === true || !opts.follow)) {
            throw new CommanderError(
              2,
              'logkit.web',
              `error: --web serves a live view: it does not take ${opts.json === true ? '--json' : '--no-follow'} (leave --web out to print entries)`,
            )
          }
          if (opts.web === true) {
            // The token comes from the environment: a command line is visible to every user (ps).
            const token = io.env['LOGKIT_WEB_TOKEN']
            await tailWeb(
              appOf(opts, io.env),
              io.env,
              {
                history: opts.lines,
                ...(opts.host === undefined ? {} : { host: opts.host }),
                ...(opts.port === undefined ? {} : { port: opts.port }),
                ...(token === undefined || token === '' ? {} : { token }),
                ...(opts.level === undefined ? {} : { level: opts.level }),
                ...(opts.source === undefined ? {} : { source: opts.source }),
                ...(opts.grep === undefined ? {} : { grep: opts.grep }),
                onListening: (url) => io.stdout.write(`logkit tail --web: ${url}\n`),
                onFeed: (state) =>
                  io.stderr.write(
                    state === 'lost'
                      ? 'logkit tail --web: the collector is gone; the view stays up and waits for it\n'
                      : 'logkit tail --web: following the collector\n',
                  ),
              },
              abort.signal,
            )
            return
          }
          await request(
            appOf(opts, io.env),
            io.env,
            {
              op: 'tail',
              history: opts.lines,
              follow: opts.follow,
              format: opts.json === true ? 'json' : 'pretty',
              colors: opts.json !== true && (io.stdout as { isTTY?: boolean }).isTTY === true,
              ...(opts.level === undefined ? {} : { level: opts.level }),
              ...(opts.source === undefined ? {} : { source: opts.source }),
              ...(opts.grep === undefined ? {} : { grep: opts.grep }),
            },
            (reply) => {
              if (typeof reply['missed'] === 'number') {
                // NDJSON stays parseable: with --json, the note goes to stderr.
                const note = `${missedLine(reply['missed'])}\n`
                if (opts.json === true) io.stderr.write(`logkit tail: ${note}`)
                else io.stdout.write(note)
                return
              }
              io.stdout.write(`${String(reply['line'])}\n`)
            },
            abort.signal,
          )
        } finally {
          process.off('SIGINT', stop)
          process.off('SIGTERM', stop)
        }
      },
    )

  program
    .command('status')
    .description('Show the running collector: pipelines, sink queues, drops, producers, rates and seq gaps.')
    .addOption(appOption())
    .addOption(manifestOption())
    .option('--json', 'print the status as JSON')
    .addHelpText(
      'after',
      examples(['logkit status --app demoapp', 'logkit status --app demoapp --json | jq .producers']),
    )
    .action(async (opts: AppOptions & { json?: boolean }) => {
      await request(appOf(opts, io.env), io.env, { op: 'status' }, (reply) => {
        const status = reply['status'] as Record<string, unknown>
        io.stdout.write(
          opts.json === true ? `${JSON.stringify(status)}\n` : `${statusLines(status).join('\n')}\n`,
        )
      })
    })

  program
    .command('flush')
    .description(
      'Return once everything the collector has accepted is written and durable in every sink; exit 1 and say what was lost (since the last flush) or is still held when it is not.',
    )
    .addOption(appOption())
    .addOption(manifestOption())
    .addHelpText('after', examples(['logkit flush --app demoapp && cp logs/demoapp.log backup/']))
    .action(async (opts: AppOptions) => {
      await request(appOf(opts, io.env), io.env, { op: 'flush' }, (reply) => {
        const flush = reply as unknown as FlushReply
        // A collector that predates the flush report says only ok.
        if (flush.durable !== false) {
          io.stdout.write('flushed\n')
          return
        }
        for (const line of flushLines(flush)) io.stdout.write(`${line}\n`)
        io.stderr.write(
          "logkit: flush could not make everything durable: see above, and the collector's log for why [LOGKIT_ERR_CLI_FLUSH_INCOMPLETE]\n",
        )
        code = exitCodes.failure
      })
    })

  program
    .command('replay')
    .description(
      "Send a sink's dead-letter file again, with the sink's options from the manifest; what is delivered leaves the file.",
    )
    .argument('<file>', 'the dead-letter file')
    .requiredOption('--manifest <file>', 'the manifest that defines the sink')
    .requiredOption('--sink <id>', 'the sink (its id, or its use name when it has none)')
    .option('--pipeline <name>', 'the pipeline, when several have a sink of that id')
    .addHelpText(
      'after',
      `${examples(['logkit replay alerts.dead.ndjson --manifest logkit.yaml --sink slack'])}\nExit codes: 0 everything delivered, 1 some entries are still not delivered or some lines are not entries (they are back in the file), 2 invalid manifest.\n`,
    )
    .action(async (file: string, opts: { manifest: string; sink: string; pipeline?: string }) => {
      const result = await replay(file, {
        manifest: opts.manifest,
        sink: opts.sink,
        pipeline: opts.pipeline,
        env: io.env,
        report: (d) => io.stderr.write(`logkit replay: ${d.message} [${d.code}]\n`),
      })
      const left = Number(result['deadLettered'] ?? 0)
      // Lines that are not entries (a partial line a crash left) are put back too.
      const unparsable = Number(result['unparsable'] ?? 0)
      io.stdout.write(
        `${file}: ${Number(result['entries'] ?? 0)} entries, ${Number(result['delivered'] ?? 0)} delivered, ${left} still in the file${unparsable > 0 ? `, ${unparsable} lines that are not entries put back into it` : ''}\n`,
      )
      if (left > 0 || unparsable > 0) code = exitCodes.failure
    })

  program
    .command('level')
    .description("Change producers' level at run time, where the transport supports it.")
    .addOption(appOption())
    .addOption(manifestOption())
    .argument('<level>', `one of ${levelNames.join(', ')}`)
    .option('--source <name>', 'only producers of this source')
    .addHelpText(
      'after',
      examples(['logkit level --app demoapp debug', 'logkit level --app demoapp --source indexer warn']),
    )
    .action(async (level: string, opts: AppOptions & { source?: string }) => {
      if (!(levelNames as readonly string[]).includes(level)) {
        throw new CommanderError(2, 'logkit.level', `error: unknown level ${level}`)
      }
      const app = appOf(opts, io.env)
      await request(
        app,
        io.env,
        { op: 'level', level, ...(opts.source === undefined ? {} : { source: opts.source }) },
        (reply) => {
          const told = Number(reply['producers'] ?? 0)
          io.stdout.write(`level ${level}: ${told} producer(s) told\n`)
          if (told === 0) {
            io.stderr.write(
              `logkit level: no running shm producer${opts.source === undefined ? '' : ` of source ${opts.source}`} in app ${app}: levels reach logkit loggers through their shm rings; fifo producers and pino loggers keep the level they started with\n`,
            )
          }
        },
      )
    })

  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return exitCodes.ok
      }
      if (err.code.startsWith('logkit.')) io.stderr.write(`${err.message}\n`)
      io.stderr.write("logkit: see 'logkit --help' [LOGKIT_ERR_CLI_USAGE]\n")
      return exitCodes.usage
    }
    if (isLogkitError(err)) {
      io.stderr.write(`logkit: ${err.message} [${err.code}]\n`)
      return err.code === 'LOGKIT_ERR_MANIFEST_INVALID' ? exitCodes.usage : exitCodes.failure
    }
    io.stderr.write(`logkit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    return exitCodes.failure
  }
  return code
}
