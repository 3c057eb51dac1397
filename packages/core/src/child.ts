// The entry point of every child. It loads this package's one dist/index.js at run time (a path
// the bundler leaves alone) instead of bundling a second copy of core, so the bootstrap and the
// user's code share one currentProcess(), one reducer registry and one set of children.
import { join } from 'node:path';

const core = require(join(__dirname, 'index.js')) as typeof import('./index');
void core._runChildProcess();
