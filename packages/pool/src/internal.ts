/**
 * What pool keeps from users: the `@multiproc/pool/internal` subpath, whose dist/internal.mjs each
 * worker Process imports to run its loop (see index.ts).
 *
 * @module @multiproc/pool/internal
 */
export { poolWorker } from './worker';
