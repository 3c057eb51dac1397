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
import { BoundedSemaphore, Semaphore } from './semaphore';
import { Event } from './event';
import { Condition } from './condition';
import { Barrier, rebuildBarrier } from './barrier';

export { Lock, RLock } from './lock';
export { Semaphore, BoundedSemaphore } from './semaphore';
export { Event } from './event';
export { Condition } from './condition';
export { Barrier, type BarrierOptions, type BarrierAction } from './barrier';
export type { AcquireOptions } from './waiting';

registerRebuilder('@multiproc/sync:Lock', ({ view }) => over(view, () => new Lock()));
registerRebuilder('@multiproc/sync:RLock', ({ view }) => over(view, () => new RLock()));
registerRebuilder('@multiproc/sync:Semaphore', ({ view }) => over(view, () => new Semaphore()));
registerRebuilder('@multiproc/sync:BoundedSemaphore', ({ view }) => over(view, () => new BoundedSemaphore()));
registerRebuilder('@multiproc/sync:Event', ({ view }) => over(view, () => new Event()));
registerRebuilder('@multiproc/sync:Condition', ({ view, lock }) => over(view, () => new Condition(lock)));
registerRebuilder('@multiproc/sync:Barrier', rebuildBarrier);

// A Value's or SharedArray's lock (an RLock unless one is given): @multiproc/shared cannot import this package.
registerLockSupport({ makeLock: () => new RLock(), isLock });

registerContextFactory('Lock', () => Lock);
registerContextFactory('RLock', () => RLock);
registerContextFactory('Semaphore', () => Semaphore);
registerContextFactory('BoundedSemaphore', () => BoundedSemaphore);
registerContextFactory('Event', () => Event);
registerContextFactory('Condition', () => Condition);
registerContextFactory('Barrier', () => Barrier);
registerContextFactory('Value', () => Value);
registerContextFactory('RawValue', () => RawValue);
registerContextFactory('SharedArray', () => SharedArray);
registerContextFactory('RawArray', () => RawArray);

declare module '@multiproc/core' {
  interface Context {
    Lock: typeof Lock;
    RLock: typeof RLock;
    Semaphore: typeof Semaphore;
    BoundedSemaphore: typeof BoundedSemaphore;
    Event: typeof Event;
    Condition: typeof Condition;
    Barrier: typeof Barrier;
    Value: typeof Value;
    RawValue: typeof RawValue;
    SharedArray: typeof SharedArray;
    RawArray: typeof RawArray;
  }
}
