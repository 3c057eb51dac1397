// The entry point of every child. It loads this package's one dist/index.js at run time, through
// dist/internal.js (a path the bundler leaves alone), instead of bundling a second copy of core,
// so the bootstrap and the user's code share one currentProcess(), one reducer registry and one
// set of children.
import { join } from 'node:path';

// Node >= 22.1 keeps compiled code on disk (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off): a child then starts ~1.7 ms sooner, our bundle
// and the target's modules compiled once. Node 20 has no such API.
(require('node:module') as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// Core learns it runs in a child before it loads: MULTIPROC_TRACE in our environment is the parent's trace.
(globalThis as Record<symbol, unknown>)[Symbol.for('multiproc.child')] = true;
const { runChildProcess } = require(join(__dirname, 'internal.js')) as typeof import('./internal');
void runChildProcess();
