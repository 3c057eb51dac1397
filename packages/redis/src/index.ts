export { redis, RedisLocation, type RedisLocationOptions } from './location';
export { RemotePool, type RemotePoolOptions } from './remote-pool';
export { PoolWorker, type PoolWorkerOptions } from './pool-worker';
export { runWorkerCommand } from './worker-command';
