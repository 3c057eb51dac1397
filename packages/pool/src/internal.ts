/**
 * What pool keeps from users: the `@multiproc/pool/internal` subpath, whose dist/internal.mjs each
 * worker Process imports to run its loop (see index.ts); @multiproc/redis's RemotePool makes its
 * calls' chunks and results as the pool does, and sends long runs of numbers packed.
 *
 * @module @multiproc/pool/internal
 */
export { poolWorker } from './worker';
export { pack, type Packed } from './pack';
export { Unsettled, applyJob, mapInput, mapJob, imapInput, imapJob, mapOptions, reviveError, type Job, type JobChunk, type ImapPool } from './jobs';
