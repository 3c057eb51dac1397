/**
 * Memory that processes share (Python's `sharedctypes` and `shared_memory`): `SharedMemory` by
 * name, numbers (`Value`, `RawValue`) and typed arrays (`SharedArray`, `RawArray`) that travel to
 * other processes as the same memory, not copies.
 *
 * @module @multiproc/shared
 */
export { SharedMemory, type SharedMemoryOptions } from './shared-memory';
export { RawValue, Value, RawArray, SharedArray, type ValueOptions, type SynchronizedArray } from './values';
export type { Typecode, TypedArrayFor } from './typecodes';
