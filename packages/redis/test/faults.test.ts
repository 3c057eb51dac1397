// Faults with real processes and a real server: a consumer SIGKILLed with items read ahead, a
// consumer too busy to answer (its heartbeat comes from a thread), the server restarted or gone.
import { Process } from '@multiproc/core';
import { Empty } from '@multiproc/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redis, RedisQueue } from '../src/index';
import { redisAvailable, startRedis, type RedisServer } from './helpers/redis-server';

const targets = new URL('./fixtures/queue-targets.mjs', import.meta.url);
const HEARTBEAT = { interval: 0.1, lapse: 0.5 };

function start(name: string, args: unknown[]): Process {
  const p = new Process({ target: { module: targets, export: name }, args });
  p.start();
  return p;
}

describe.runIf(redisAvailable())('RedisQueue faults', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server.stop());

  const queue = <T>(name: string) => new RedisQueue<T>({ url: server.url, name, heartbeat: HEARTBEAT });

  it('a consumer SIGKILLed holding 100 read ahead, 30 handed: the other 70 come back, in order, once', async () => {
    const q = queue<number>('killed');
    const report = queue<number[]>('killed-report');
    for (let i = 0; i < 100; i++) q.put(i);
    expect(await q.qsize()).toBe(100);
    const child = start('takeThenHang', [q, report, 30]);
    expect(await report.get()).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // The child read all 100 ahead: none is left on the server for us.
    expect(await q.qsize()).toBe(0);
    child.kill();
    await child.join();
    expect(child.exitCode).toBe(-9);
    // Our get finds the queue empty, reaps once the child's heartbeat lapsed, and gets them.
    const rest: number[] = [];
    for (let i = 0; i < 70; i++) rest.push(await q.get());
    expect(rest).toEqual(Array.from({ length: 70 }, (_, i) => 30 + i));
    await expect(q.getNowait()).rejects.toBeInstanceOf(Empty);
    await q.destroy();
    await report.destroy();
  });

  it('mid-traffic: a consumer SIGKILLed while a producer still puts: every item it had not handed comes once', async () => {
    const q = queue<{ p: number; i: number } | null>('mid-traffic');
    const report = queue<{ p: number; i: number }[]>('mid-traffic-report');
    const n = 5000;
    const consumer = start('takeThenHang', [q, report, 100]);
    const producer = start('producerWithSentinel', [q, 1, n]);
    const handed = await report.get();
    expect(handed.map((x) => x.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    consumer.kill();
    await consumer.join();
    const rest: number[] = [];
    let end = 0;
    while (rest.length < n - 100) {
      const x = await q.get();
      if (x === null) end++;
      else rest.push(x.i);
    }
    if (end === 0) expect(await q.get()).toBeNull();
    await expect(q.getNowait()).rejects.toBeInstanceOf(Empty);
    // Once each. Its read-ahead came back (in order) when its heartbeat lapsed: we may have had
    // later items by then; each of the two runs is in order.
    expect([...rest].sort((a, b) => a - b)).toEqual(Array.from({ length: n - 100 }, (_, i) => 100 + i));
    const back = rest.filter((i) => i < rest[0]);
    expect(back).toEqual([...back].sort((a, b) => a - b));
    const onward = rest.filter((i) => i >= rest[0]);
    expect(onward).toEqual([...onward].sort((a, b) => a - b));
    await producer.join();
    expect(producer.exitCode).toBe(0);
    await q.destroy();
    await report.destroy();
  });

  it('a consumer whose event loop is busy for 3 lapses is not taken for dead (its heartbeat is a thread)', async () => {
    const q = queue<number | null>('busy');
    const report = queue<unknown>('busy-report');
    for (let i = 0; i < 50; i++) q.put(i);
    await q.put(null);
    const child = start('busyConsumer', [q, report, 1500]);
    expect(await report.get()).toBe('started');
    // While it spins, every item is its own: a reaper (ours, in this get) must not take them back.
    await expect(q.get({ timeout: 1.2 })).rejects.toBeInstanceOf(Empty);
    expect(await report.get()).toEqual([...Array.from({ length: 50 }, (_, i) => i)]);
    await child.join();
    expect(child.exitCode).toBe(0);
    await q.destroy();
    await report.destroy();
  });

  it('the server restarted mid-run: a waiting get and later puts go on after the reconnect', async () => {
    const q = queue<string>('restart');
    await q.put('before');
    expect(await q.get()).toBe('before');
    const waiting = q.get();
    await server.restart();
    // An empty server (no persistence here): what comes now is what is put now.
    await q.put('after');
    expect(await waiting).toBe('after');
    await q.put('again');
    expect(await q.get()).toBe('again');
    q.close();
    await q.joinThread();
  });

  it('the server gone for good: calls fail with a clear error, never hang', async () => {
    const own = await startRedis();
    const q = new RedisQueue<string>({ url: redis(own.url), name: 'gone', heartbeat: HEARTBEAT });
    await q.put('x');
    expect(await q.get()).toBe('x');
    const waiting = q.get();
    await own.stop();
    await expect(waiting).rejects.toThrow(/get\(\): RedisQueue\("gone" on unix:.*\): lost the Redis server at unix:/);
    q.close();
  }, 60_000);
});
