/**
 * `Pool` and `AsyncResult`: data-parallel work over worker processes.
 *
 * @module @multiproc/pool
 */
import { registerContextFactory, type Context } from '@multiproc/core';
import { Pool, type PoolOptions } from './pool';

export { Pool, type PoolOptions, type MapOptions, type AsyncOptions, type Task } from './pool';
export { AsyncResult } from './async-result';
/** @internal each worker Process runs this */
export { poolWorker as _poolWorker } from './worker';

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
