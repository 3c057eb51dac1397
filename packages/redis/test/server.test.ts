// The harness itself: a real redis-server starts, answers, restarts empty and is gone after stop().
import Redis from 'ioredis';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redisAvailable, startRedis } from './helpers/redis-server';

describe.runIf(redisAvailable())('redis-server harness', () => {
  it('starts on a Unix socket and a port, restarts empty, and stops', async () => {
    const server = await startRedis({ tcp: true, password: 's3cret' });
    const client = new Redis({ path: server.socket, password: 's3cret', lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');
      expect(server.tcpUrl).toMatch(/^redis:\/\/:s3cret@127\.0\.0\.1:\d+$/);
      const tcp = new Redis(server.tcpUrl!);
      expect(await tcp.ping()).toBe('PONG');
      tcp.disconnect();
      await server.restart();
      expect(await client.get('k')).toBeNull();
    } finally {
      client.disconnect();
      await server.stop();
    }
    expect(existsSync(server.socket)).toBe(false);
  });
});
