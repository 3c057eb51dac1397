// What only a queue on a server has: a name others join, keys that may hold something else, a
// password that must not travel, values that cannot leave this machine.
import { Process } from '@multiproc/core';
import { dumps } from '@multiproc/core/internal';
import { ProcessError } from '@multiproc/errors';
import { Pipe } from '@multiproc/pipe';
import { JoinableQueue, Queue } from '@multiproc/queue';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redis, RedisJoinableQueue, RedisQueue, remoteContext } from '../src/index';
import { redisAvailable, startRedis, type RedisServer } from './helpers/redis-server';

const spawnContext = { kind: 'spawn', duplicateForChild: () => 0 } as const;
const targets = new URL('./fixtures/queue-targets.mjs', import.meta.url);

describe.runIf(redisAvailable())('RedisQueue', () => {
  let server: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    server = await startRedis({ password: 'hunter2' });
    raw = new Redis({ path: server.socket, password: 'hunter2' });
  });
  afterAll(async () => {
    raw.disconnect();
    await server.stop();
  });

  it('joins by name: a second object (any process, any machine) naming the queue shares it', async () => {
    const a = new RedisQueue<number>({ url: server.url, name: 'shared' });
    const b = new RedisQueue<number>({ url: server.url, name: 'shared' });
    await a.put(1);
    expect(await b.get()).toBe(1);
    expect(a.maxsize).toBe(0);
    const bounded = new RedisQueue({ url: server.url, name: 'bounded', maxsize: 3 });
    await bounded.put(0);
    const joiner = new RedisQueue({ url: server.url, name: 'bounded' });
    await joiner.qsize();
    expect(joiner.maxsize).toBe(3);
    const other = new RedisQueue({ url: server.url, name: 'bounded', maxsize: 5 });
    await expect(other.put(1)).rejects.toThrow(/exists with maxsize 3; pass that, or no maxsize/);
    for (const q of [a, b, bounded, joiner, other]) await q.destroy();
  });

  it('a name that holds something else gives an error naming the queue', async () => {
    await raw.set('multiproc:queue:taken:items', 'a string');
    const q = new RedisQueue({ url: server.url, name: 'taken' });
    await expect(q.put(1)).rejects.toThrow(/RedisQueue\("taken" on unix:\/\/.*\): the key multiproc:queue:taken:items holds a string that multiproc did not make/);
    await raw.rpush('multiproc:queue:foreign:items', 'x');
    await expect(new RedisQueue({ url: server.url, name: 'foreign' }).getNowait()).rejects.toThrow(/holds a list that multiproc did not make/);
    const plain = new RedisQueue({ url: server.url, name: 'plain' });
    await plain.put(1);
    await expect(new RedisJoinableQueue({ url: server.url, name: 'plain' }).put(1)).rejects.toThrow(/that name is taken by a Queue; use RedisQueue, or another name/);
    await raw.del('multiproc:queue:taken:items', 'multiproc:queue:foreign:items');
    await plain.destroy();
  });

  it('an item that is not a message of this library gives a clear error, not a hang', async () => {
    const q = new RedisQueue({ url: server.url, name: 'garbage' });
    await q.put('fine');
    await q.qsize(); // on the server before the garbage
    await raw.rpush('multiproc:queue:garbage:items', 'not v8 data');
    expect(await q.get()).toBe('fine');
    await expect(q.get()).rejects.toThrow(/is not a message of this library/);
    await q.destroy();
  });

  it('refuses, at put(), what cannot reach another machine', async () => {
    const q = new RedisQueue({ url: server.url, name: 'refuse' });
    const [a, b] = Pipe();
    expect(() => q.put({ conn: a })).toThrow(/a Connection .*cannot be sent through Redis/);
    const local = new Queue();
    expect(() => q.put([local])).toThrow(/a Queue cannot be sent to another machine/);
    const joinable = new JoinableQueue();
    expect(() => q.put(joinable)).toThrow(/a JoinableQueue cannot be sent to another machine/);
    a.close();
    b.close();
    local.close();
    joinable.close();
    // A remote queue travels, by name.
    const inner = new RedisQueue<string>({ url: server.url, name: 'inner' });
    await q.put({ reply: inner });
    const got = (await q.get()) as { reply: RedisQueue<string> };
    expect(got.reply).toBeInstanceOf(RedisQueue);
    expect(got.reply.name).toBe('inner');
    await got.reply.put('hi');
    expect(await inner.get()).toBe('hi');
    await q.destroy();
    await inner.destroy();
  });

  it('never carries or shows the password', async () => {
    const q = new RedisQueue({ url: server.url, name: 'secret' });
    for (const text of [String(q), JSON.stringify({ q: q.server }), q.server, dumps(q, spawnContext).toString('latin1')]) {
      expect(text).not.toContain('hunter2');
    }
    const wrong = new RedisQueue({ url: server.url.replace('hunter2', 'wrong-pass'), name: 'secret' });
    const err = await wrong.put(1).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.name).toBe('AuthenticationError');
    expect(err?.message).toMatch(/refused the connection .*check the password/);
    expect(err?.message).not.toMatch(/hunter2|wrong-pass/);
    wrong.close();
    q.close();
  });

  it('a queue reaches another process without the password: it takes it from MULTIPROC_REDIS_URL, or says it needs it', async () => {
    const q = new RedisQueue<number>({ url: server.url, name: 'travels' });
    const out = new RedisQueue<number[]>({ url: server.url, name: 'travels-out' });
    const run = (env: string | undefined) => {
      const saved = process.env.MULTIPROC_REDIS_URL;
      if (env === undefined) delete process.env.MULTIPROC_REDIS_URL;
      else process.env.MULTIPROC_REDIS_URL = env;
      try {
        const p = new Process({ target: { module: targets, export: 'collect' }, args: [q, out, 2] });
        p.start();
        return p;
      } finally {
        if (saved === undefined) delete process.env.MULTIPROC_REDIS_URL;
        else process.env.MULTIPROC_REDIS_URL = saved;
      }
    };
    await q.put(1);
    await q.put(2);
    const ok = run(server.url);
    expect(await out.get()).toEqual([1, 2]);
    await ok.join();
    expect(ok.exitCode).toBe(0);
    const refused = run(undefined);
    await refused.join();
    expect(refused.exitCode).not.toBe(0);
    await q.destroy();
    await out.destroy();
  });

  it('checks its arguments', () => {
    expect(() => new RedisQueue(undefined as never)).toThrow(/options must be an object \{ url, name, maxsize \}/);
    expect(() => new RedisQueue({ url: 42 } as never)).toThrow(/url must be a Redis URL/);
    expect(() => new RedisQueue({ url: server.url, name: 'a b' })).toThrow(/name must be 1 to 200 letters/);
    expect(() => new RedisQueue({ url: server.url, maxsize: 1.5 })).toThrow(/maxsize must be an integer/);
    expect(() => new RedisQueue({ url: server.url, heartbeat: { interval: 1, lapse: 1 } })).toThrow(/at least twice/);
    expect(() => new RedisQueue({ url: server.url, bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(() => remoteContext('redis://x' as never)).toThrow(/pass redis\(url\)/);
  });

  it('a context makes queues with fresh names that other processes can be given', async () => {
    const ctx = remoteContext(redis(server.url));
    const a = new ctx.Queue();
    const b = new ctx.Queue();
    expect(a.name).not.toBe(b.name);
    expect(a).toBeInstanceOf(RedisQueue);
    expect(new ctx.JoinableQueue()).toBeInstanceOf(RedisJoinableQueue);
    expect(String(a)).toMatch(/^Queue\("anon-[0-9a-f]{24}" on unix:\/\/.*\?password=\*\*\*\)$/);
    a.close();
    b.close();
  });

  it('errors keep their library class through the queue', async () => {
    const q = new RedisQueue({ url: server.url, name: 'errors' });
    await q.put(new ProcessError('boom'));
    const e = await q.get();
    expect(e).toBeInstanceOf(ProcessError);
    await q.destroy();
  });
});
