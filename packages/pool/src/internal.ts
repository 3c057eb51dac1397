/**
 * What pool keeps from users: the `@multiproc/pool/internal` subpath, whose dist/internal.mjs each
 * worker Process imports to run its loop (see index.ts), and @multiproc/redis's RemotePool sends
 * long runs of numbers packed, as the pool does.
 *
 * @module @multiproc/pool/internal
 */
export { poolWorker } from './worker';
export { pack, slicePacked, copyInto, type Packed } from './pack';
