/**
 * What @multiproc/sync needs of this package and users must not rely on: the
 * `@multiproc/shared/internal` subpath (dist/internal.js takes it from dist/index.js, so there is
 * one copy of the arena).
 *
 * @module @multiproc/shared/internal
 */
export { allocate, LINE, type Block } from './arena';
export { registerLockSupport, type LockSupport } from './locks';
