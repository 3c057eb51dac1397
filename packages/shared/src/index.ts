/**
 * Memory that processes share (Python's `sharedctypes` and `shared_memory`): `SharedMemory` by
 * name, numbers (`Value`, `RawValue`) and typed arrays (`SharedArray`, `RawArray`) that travel to
 * other processes as the same memory, not copies.
 *
 * @module @multiproc/shared
 */
import * as internal from './internal';

export { SharedMemory, type SharedMemoryOptions } from './shared-memory';
export { RawValue, Value, RawArray, SharedArray, type ValueOptions, type SynchronizedArray } from './values';
export type { Typecode, TypedArrayFor } from './typecodes';
export type { SynchronizedLock } from './locks';

// What @multiproc/sync needs goes under a symbol, not a name: @multiproc/shared/internal
// (dist/internal.js) hands it out from this bundle, so there is one copy of the arena.
Object.defineProperty(module.exports, Symbol.for('multiproc.internal'), { value: internal });
