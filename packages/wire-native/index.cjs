// The addon built from native/wire.cc by node-gyp when the package is installed.
// @logkit/core loads this package lazily (an optional dependency) and falls back
// to its TypeScript when it is missing or fails to load.
'use strict'
module.exports = require('./build/Release/logkit_wire.node')
