/**
 * The modules of this bundle that core's start part (dist/start.js, see start-part.ts) uses, by
 * their path under src/: it takes these, not copies of its own. scripts/start-part.mjs fails the
 * build when the part imports a module missing here, or no longer imports one listed.
 */
import * as errors from '@multiproc/errors';
import * as finalize from './finalize';
import * as logger from './log/logger';
import * as nodeInternals from './node-internals';
import * as options from './options';
import * as parentProcess from './parent-process';
import * as process from './process';
import * as protocol from './protocol';
import * as reduction from './reduction';
import * as route from './route';
import * as state from './state';
import * as timeout from './timeout';
import * as recorder from './trace/recorder';
import * as wait from './wait';

export const START_MODULES: Record<string, unknown> = {
  '@multiproc/errors': errors,
  finalize,
  'log/logger': logger,
  'node-internals': nodeInternals,
  options,
  'parent-process': parentProcess,
  process,
  protocol,
  reduction,
  route,
  state,
  timeout,
  'trace/recorder': recorder,
  wait,
};
