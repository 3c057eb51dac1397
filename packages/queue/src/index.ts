/**
 * `Queue`, `SimpleQueue` and `JoinableQueue`, shared by any number of processes.
 *
 * @module @multiproc/queue
 */
import { registerRebuilder } from '@multiproc/core';
import { registerContextFactory } from '@multiproc/core/internal';
import { JoinableQueue, Queue, REBUILD_ID, rebuildQueue, SimpleQueue } from './queue';

export { Queue, JoinableQueue, SimpleQueue } from './queue';
export type { BlockingOptions } from '@multiproc/core';

registerRebuilder(REBUILD_ID, rebuildQueue);

// getContext(method).Queue and friends: a queue is the same whatever the start method.
registerContextFactory('Queue', () => Queue);
registerContextFactory('JoinableQueue', () => JoinableQueue);
registerContextFactory('SimpleQueue', () => SimpleQueue);

declare module '@multiproc/core' {
  interface Context {
    Queue: typeof Queue;
    JoinableQueue: typeof JoinableQueue;
    SimpleQueue: typeof SimpleQueue;
  }
}
