#!/usr/bin/env node
// The `logkit` binary: run the CLI, exit with its code. process.exit, not
// exitCode: a plugin may leave a handle open after close (a watcher, a
// doorbell), and stdout/stderr are synchronous on Linux pipes and files.

import { run } from './cli.js'

process.exit(await run(process.argv.slice(2)))
