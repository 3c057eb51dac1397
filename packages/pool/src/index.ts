/**
 * `Pool` and `AsyncResult`: data-parallel work over worker processes.
 *
 * @module @multiproc/pool
 */
import type { Context } from '@multiproc/core';
import { registerContextFactory } from '@multiproc/core/internal';
import * as internal from './internal';
import { Pool, type PoolOptions } from './pool';

export { Pool, type PoolOptions, type MapOptions, type AsyncOptions, type Task } from './pool';
export { AsyncResult } from './async-result';

// getContext(method).Pool: a Pool whose workers start with that method.
registerContextFactory('Pool', (ctx: Context) => {
  return class extends Pool {
    constructor(processes?: number | null | PoolOptions) {
      super(typeof processes === 'object' && processes !== null ? { context: ctx, ...processes } : { processes, context: ctx });
    }
  };
});

declare module '@multiproc/core' {
  interface Context {
    Pool: typeof Pool;
  }
}

// The worker's loop goes under a symbol, not a name, for dist/internal.js to hand out from this
// bundle (as @multiproc/core does).
Object.defineProperty(module.exports, Symbol.for('multiproc.internal'), { value: internal });
