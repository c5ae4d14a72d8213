#!/usr/bin/env node
// The `logkit` command. A committed file rather than the build's
// dist/bin.js, so that npm links it (executable) when it installs, before
// anything is built; it runs the built CLI.

import '../dist/bin.js'
