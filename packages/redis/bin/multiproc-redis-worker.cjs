#!/usr/bin/env node
// Serves a RemotePool from this machine: see `multiproc-redis-worker --help`.
require('../dist/index.js')
  .runWorkerCommand(process.argv.slice(2))
  .then((code) => process.exit(code));
