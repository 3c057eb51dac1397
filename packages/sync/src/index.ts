/**
 * Python's `multiprocessing.synchronize` across real processes: `Lock`, `RLock`, `Semaphore`,
 * `BoundedSemaphore`, `Event`, `Condition`, `Barrier`. Each lives in a line of shared memory, its
 * algorithm TypeScript over `Atomics`, its waits through @multiproc/native. Each travels to
 * other processes (Process args, Connection, Queue, Pool) as the same object. A lock whose owner
 * process dies is taken over by the next acquirer instead of deadlocking it.
 *
 * @module @multiproc/sync
 */
import { registerRebuilder } from '@multiproc/core';
import { registerContextFactory } from '@multiproc/core/internal';
import { RawArray, RawValue, SharedArray, Value } from '@multiproc/shared';
import { registerLockSupport } from '@multiproc/shared/internal';
import { over } from './kinds';
import { isLock, Lock, RLock } from './lock';

export { Lock, RLock } from './lock';
export type { AcquireOptions } from './waiting';

registerRebuilder('@multiproc/sync:Lock', ({ view }) => over(view, () => new Lock()));
registerRebuilder('@multiproc/sync:RLock', ({ view }) => over(view, () => new RLock()));

// A Value's or SharedArray's lock (an RLock unless one is given): @multiproc/shared cannot import this package.
registerLockSupport({ makeLock: () => new RLock(), isLock });

registerContextFactory('Lock', () => Lock);
registerContextFactory('RLock', () => RLock);
registerContextFactory('Value', () => Value);
registerContextFactory('RawValue', () => RawValue);
registerContextFactory('SharedArray', () => SharedArray);
registerContextFactory('RawArray', () => RawArray);

declare module '@multiproc/core' {
  interface Context {
    Lock: typeof Lock;
    RLock: typeof RLock;
    Value: typeof Value;
    RawValue: typeof RawValue;
    SharedArray: typeof SharedArray;
    RawArray: typeof RawArray;
  }
}
