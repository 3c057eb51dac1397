// One suite, two engines: every test here runs on the local Queue and on RedisQueue through a
// context, with the same code. What differs (qsize and friends answer with a Promise remotely)
// is written the way that works on both (`await q.qsize()`).
import { Process } from '@multiproc/core';
import { Empty, Full, ProcessError } from '@multiproc/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceContexts } from './contexts';

const targets = new URL('../fixtures/queue-targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });

function start(name: string, args: unknown[]): Process {
  const p = new Process({ target: ref(name), args });
  p.start();
  return p;
}

describe.each(conformanceContexts())('Queue conformance: $name', (c) => {
  beforeAll(() => c.setup());
  afterAll(() => c.teardown());

  it('keeps FIFO order and carries values by the transfer protocol (library errors keep their class)', async () => {
    const q = new c.ctx.Queue();
    const values = [1, 'two', { three: [3] }, new Map([[4, 'four']]), new Date(5), Buffer.from('six'), null, new ProcessError('seven'), 8n];
    for (const v of values) await q.put(v);
    expect(await q.qsize()).toBe(values.length);
    const got = [];
    for (let i = 0; i < values.length; i++) got.push(await q.get());
    expect(got.slice(0, 7)).toEqual(values.slice(0, 7));
    expect(got[7]).toBeInstanceOf(ProcessError);
    expect((got[7] as Error).message).toBe('seven');
    expect(got[8]).toBe(8n);
    expect(await q.empty()).toBe(true);
    q.close();
    await q.joinThread();
  });

  it('get: nowait and timeout give Empty, a signal aborts', async () => {
    const q = new c.ctx.Queue();
    await expect(q.getNowait()).rejects.toBeInstanceOf(Empty);
    await expect(q.get(false)).rejects.toThrow('get(): the queue is empty');
    const t0 = performance.now();
    await expect(q.get({ timeout: 0.2 })).rejects.toBeInstanceOf(Empty);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    const ac = new AbortController();
    const pending = q.get({ signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // Nothing was lost to the aborted get.
    await q.put('after');
    expect(await q.get()).toBe('after');
    q.close();
  });

  it('checks its arguments with the same messages', async () => {
    const q = new c.ctx.Queue();
    // Thrown at the call, not through the Promise.
    expect(() => q.get('yes' as never)).toThrow('get(): block must be true or false, got the string "yes"');
    expect(() => q.put(1, { timeout: 'soon' as never })).toThrow(/timeout/);
    expect(() => q.put(1, { bogus: 1 } as never)).toThrow(/unknown option 'bogus'/);
    expect(() => q.put(() => 1)).toThrow(/cannot be sent to another process/);
    q.close();
    expect(() => q.put(1)).toThrow(/closed/);
    expect(() => q.get()).toThrow(/closed/);
  });

  it('maxsize: Full when it stays full, and a blocked put wakes when a get frees room', async () => {
    const q = new c.ctx.Queue<number>(2);
    await q.put(1);
    await q.put(2);
    expect(await q.full()).toBe(true);
    await expect(q.putNowait(3)).rejects.toBeInstanceOf(Full);
    await expect(q.put(3, { timeout: 0.1 })).rejects.toBeInstanceOf(Full);
    let placed = false;
    const blocked = q.put(3).then(() => (placed = true));
    expect(await q.get()).toBe(1);
    await blocked;
    expect(placed).toBe(true);
    expect([await q.get(), await q.get()]).toEqual([2, 3]);
    q.close();
  });

  it('close() fails a get that waits, and what was put before is still there for others', async () => {
    const q = new c.ctx.Queue<number>();
    const waiting = q.get();
    q.close();
    await expect(waiting).rejects.toThrow(/closed/);
    expect(q.closed).toBe(true);
  });

  it('close() ends a for-await loop; joinThread() needs close() first', async () => {
    const q = new c.ctx.Queue<number>();
    expect(() => q.joinThread()).toThrow(/call close\(\) first/);
    await q.put(1);
    await q.put(2);
    const seen: number[] = [];
    for await (const x of q) {
      seen.push(x);
      if (seen.length === 2) q.close();
    }
    expect(seen).toEqual([1, 2]);
    expect(q.closed).toBe(true);
  });

  it('JoinableQueue: join() waits for every taskDone(), across processes; too many taskDone() rejects', async () => {
    const q = new c.ctx.JoinableQueue<number | null>();
    const out = new c.ctx.Queue<number>();
    expect(await q.join({ timeout: 0.05 })).toBe(true);
    for (let i = 0; i < 20; i++) await q.put(i);
    await q.put(null);
    expect(await q.join(0.05)).toBe(false);
    const worker = start('joinableWorker', [q, out]);
    expect(await q.join()).toBe(true);
    const got: number[] = [];
    for (let i = 0; i < 20; i++) got.push(await out.get());
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i * i));
    await worker.join();
    expect(worker.exitCode).toBe(0);
    await expect(q.taskDone()).rejects.toThrow('taskDone() called too many times');
    q.close();
    out.close();
  });

  it('travels to other processes: two producers, one consumer, per-producer FIFO, every item once', async () => {
    const q = new c.ctx.Queue<{ p: number; i: number } | null>();
    const out = new c.ctx.Queue<unknown[]>();
    const n = 2000;
    const producers = [start('producerWithSentinel', [q, 1, n]), start('producerWithSentinel', [q, 2, n])];
    const consumer = start('collect', [q, out, 2 * n + 2]);
    const got = (await out.get()) as ({ p: number; i: number } | null)[];
    for (const p of producers) await p.join();
    await consumer.join();
    expect(got.filter((x) => x === null)).toHaveLength(2);
    for (const p of [1, 2]) {
      expect(got.filter((x) => x?.p === p).map((x) => x!.i)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    q.close();
    out.close();
  });
});
