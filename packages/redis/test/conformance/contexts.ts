// The contexts the conformance suite runs on: the local one (getContext()) and a Redis server's
// (remoteContext(redis(url))). A file that uses them runs every test on each; a context that
// cannot run here (no redis-server) is skipped with one line.
import { getContext, type QueueContextLike } from '@multiproc/core';
import '@multiproc/queue';
import { redis, remoteContext } from '../../src/index';
import { redisAvailable, startRedis, type RedisServer } from '../helpers/redis-server';

export interface ConformanceContext {
  readonly name: 'local' | 'redis';
  /** Made in beforeAll (the server must be up first). */
  ctx: QueueContextLike;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

function local(): ConformanceContext {
  return {
    name: 'local',
    ctx: getContext() satisfies QueueContextLike,
    setup: async () => {},
    teardown: async () => {},
  };
}

function onRedis(): ConformanceContext {
  let server: RedisServer | null = null;
  const c: ConformanceContext = {
    name: 'redis',
    ctx: null as unknown as QueueContextLike,
    async setup() {
      server = await startRedis();
      // Short heartbeats: a dead consumer's items come back within a test's patience.
      c.ctx = remoteContext(redis(server.url), { heartbeat: { interval: 0.1, lapse: 0.5 } });
    },
    async teardown() {
      await server?.stop();
    },
  };
  return c;
}

/** Every context that can run here. */
export function conformanceContexts(): ConformanceContext[] {
  return redisAvailable() ? [local(), onRedis()] : [local()];
}
