/**
 * The same Queue, JoinableQueue and Pool across machines, on a Redis or Valkey server.
 *
 * @module @multiproc/redis
 */
import { registerRebuilder } from '@multiproc/core';
import { REBUILD_ID, rebuildQueue } from './queue';

export { redis, RedisLocation, type RedisLocationOptions } from './location';
export { RedisQueue, RedisJoinableQueue, type RedisQueueOptions } from './queue';
export { RemotePool, type RemotePoolOptions } from './remote-pool';
export { PoolWorker, type PoolWorkerOptions } from './pool-worker';
export { runWorkerCommand } from './worker-command';
export { remoteContext, type RemoteContext, type RemoteContextOptions } from './context';
export type { HeartbeatOptions } from './heartbeat';

registerRebuilder(REBUILD_ID, rebuildQueue);
