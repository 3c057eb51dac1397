// The cases every pool passes, local or remote: pool.test.ts runs them on the local Pool, and
// packages/redis's conformance suite on a RemotePool through a context (one API, one behaviour).
import type { ModuleReference, PoolLike } from '@multiproc/core';
import { Full, ProcessError, TimeoutError } from '@multiproc/errors';
import { AsyncResult } from '@multiproc/pool';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

export interface PoolUnderTest {
  make(processes: number): PoolLike;
  /** A task of fixtures/tasks.mjs, as the pool's workers import it. */
  task(name: string): ModuleReference;
  /** How many items imap may read past those taken (1000, in chunks of 10, on 2 processes). */
  imapReadAhead: number;
  /** The pool's own worker processes; a remote pool's are shared by all, so it has none to check. */
  processes?(pool: PoolLike): readonly { pid: number | null }[];
}

export function poolCases(p: PoolUnderTest): void {
  const t = p.task;
  const checkProcesses = (pool: PoolLike, check: (procs: readonly { pid: number | null }[]) => void) => p.processes && check(p.processes(pool));

  it('map, starmap, apply, and their async forms, in input order', async () => {
    await using pool = p.make(2);
    expect(await pool.map(t('square'), [1, 2, 3, 4, 5])).toEqual([1, 4, 9, 16, 25]);
    expect(await pool.map(t('square'), new Set([6, 7]), 1)).toEqual([36, 49]);
    expect(await pool.map(t('square'), [])).toEqual([]);
    expect(await pool.starmap(t('add'), [[1, 2], [3, 4]])).toEqual([3, 7]);
    expect(await pool.apply(t('add'), [1, 2], { extra: 10 })).toBe(13);
    const r = pool.applyAsync(t('square'), [9]);
    expect(r).toBeInstanceOf(AsyncResult);
    expect(await r.get()).toBe(81);
    expect(r.ready()).toBe(true);
    expect(r.successful()).toBe(true);
    const m = pool.mapAsync(t('square'), [1, 2, 3], { chunksize: 2 });
    await m.wait();
    expect(await m.get(1)).toEqual([1, 4, 9]);
    expect(await pool.starmapAsync(t('add'), [[5, 5]]).get()).toEqual([10]);
    const called: unknown[] = [];
    await pool.applyAsync(t('square'), [3], null, { callback: (v) => called.push(v) }).wait();
    await pool.applyAsync(t('fail'), [3], null, { errorCallback: (e) => called.push((e as Error).name) }).wait();
    expect(called).toEqual([9, 'RangeError']);
  });

  it('200,000 tiny tasks in a few chunks, and 2,000 one by one, results in order', async () => {
    await using pool = p.make(2);
    const items = Array.from({ length: 200_000 }, (_, i) => i);
    const out = await pool.map<number>(t('square'), items);
    expect(out.length).toBe(items.length);
    expect(out.every((v, i) => v === i * i)).toBe(true);
    expect(await pool.map(t('identity'), items.slice(0, 2000), 1)).toEqual(items.slice(0, 2000));
    expect(await pool.map(t('slowSquare'), [1, 2, 3], 1)).toEqual([1, 4, 9]);
  });

  it('numbers come back exactly: -0, NaN, ±Infinity, doubles', async () => {
    await using pool = p.make(2);
    const doubles = [-0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 0.1, 1e-320, 'not a number', 7];
    const out = await pool.map(t('identity'), doubles, 3);
    expect(out.every((v, i) => Object.is(v, doubles[i]))).toBe(true);
    expect(await pool.map(t('kind'), doubles, 4)).toEqual(['-0', ...Array(8).fill('number'), 'string', 'number']);
  });

  it('imap in order, imapUnordered as they finish, over sync and async iterables', async () => {
    await using pool = p.make(2);
    const got: number[] = [];
    for await (const v of pool.imap<number>(t('square'), [1, 2, 3, 4])) got.push(v);
    expect(got).toEqual([1, 4, 9, 16]);
    const unordered: number[] = [];
    async function* numbers() {
      for (let i = 0; i < 50; i++) yield i;
    }
    for await (const v of pool.imapUnordered<number>(t('square'), numbers(), 7)) unordered.push(v);
    expect(unordered.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i * i));
  });

  it('imap reads a huge input only as fast as results are taken, and stops when the loop breaks', async () => {
    await using pool = p.make(2);
    let pulled = 0;
    function* tenMillion() {
      for (let i = 0; i < 10_000_000; i++) {
        pulled++;
        yield i;
      }
    }
    let n = 0;
    for await (const v of pool.imap<number>(t('square'), tenMillion(), 10)) {
      expect(v).toBe(n * n);
      if (++n === 1000) break;
    }
    // Bounded: a window of chunks ahead, nowhere near ten million.
    expect(pulled).toBeLessThan(1000 + p.imapReadAhead);
    expect(await pool.apply(t('square'), [12])).toBe(144);
  });

  it("a task's error arrives as the same error (class, message, stack), and the pool goes on", async () => {
    await using pool = p.make(2);
    const err = await pool.map(t('fail'), [1, 2, 3], 1).catch((e: any) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe('bad item 3');
    expect(err.stack).toMatch(/tasks\.mjs/);
    const full = await pool.apply(t('fail'), [4]).catch((e: any) => e);
    expect(full).toBeInstanceOf(Full);
    const custom: any = await pool.apply(t('fail'), [5]).catch((e: any) => e);
    expect(custom.name).toBe('CustomError');
    expect(custom.message).toBe('custom');
    const r = pool.applyAsync(t('fail'), [3]);
    await r.wait();
    expect(r.successful()).toBe(false);
    const seen: unknown[] = [];
    await expect(
      (async () => {
        for await (const v of pool.imap(t('fail'), [1, 2, 3])) seen.push(v);
      })(),
    ).rejects.toThrow('bad item 3');
    expect(seen).toEqual([1, 2]);
    expect(await pool.map(t('square'), [2, 3])).toEqual([4, 9]);
  });

  it('get(timeout) throws TimeoutError; ready() and successful() say not yet; terminate() fails what is running', async () => {
    const pool = p.make(1);
    // Runs until released: terminate() kills a local pool's processes, not the shared remote ones.
    const dir = mkdtempSync(join(tmpdir(), 'multiproc-release-'));
    const r = pool.applyAsync(t('waitForFile'), [join(dir, 'go')]);
    await expect(r.get(0.05)).rejects.toBeInstanceOf(TimeoutError);
    await r.wait({ timeout: 0.01 });
    expect(r.ready()).toBe(false);
    expect(() => r.successful()).toThrow(/not ready/);
    expect(() => r.successful()).toThrow(ProcessError);
    await expect(r.get({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const mapping = pool.map(t('square'), [1, 2, 3], 1);
    pool.terminate();
    await expect(r.get()).rejects.toThrow(/terminated/);
    await expect(mapping).rejects.toThrow(/terminated/);
    await pool.join();
    checkProcesses(pool, (procs) => expect(procs).toEqual([]));
    writeFileSync(join(dir, 'go'), '');
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker process killed with SIGKILL or exiting mid-task: its task fails with ProcessError, the pool goes on', async () => {
    await using pool = p.make(2);
    expect((await pool.map(t('pid'), [1, 2, 3, 4], 1)).length).toBe(4);
    const killed: any = await pool.apply(t('killSelf'), ['SIGKILL']).catch((e: any) => e);
    expect(killed).toBeInstanceOf(ProcessError);
    expect(killed.message).toMatch(/pool worker \(pid \d+\) ended with exit code -9/);
    const exited: any = await pool.apply(t('exitWith'), [3]).catch((e: any) => e);
    expect(exited.message).toMatch(/ended with exit code 3/);
    expect(await pool.map(t('square'), [1, 2, 3], 1)).toEqual([1, 4, 9]);
    // A local pool replaces the worker.
    checkProcesses(pool, (procs) => expect(procs.length).toBe(2));
  });

  it('a task that cannot be loaded in the worker fails its calls with the reason; the pool goes on', async () => {
    await using pool = p.make(1);
    const before = p.processes?.(pool).map((w) => w.pid);
    await expect(pool.apply(t('noSuchExport'))).rejects.toThrow(/has no export 'noSuchExport'/);
    expect(await pool.apply(t('square'), [4])).toBe(16);
    // The worker stays.
    checkProcesses(pool, (procs) => expect(procs.map((w) => w.pid)).toEqual(before));
  });

  it('close() lets queued tasks finish; join() waits for the workers; nothing new is accepted', async () => {
    const pool = p.make(2);
    expect(() => pool.join()).toThrow(/still running/);
    expect(() => pool.join()).toThrow(ProcessError);
    const result = pool.map(t('slowSquare'), [1, 2, 3, 4], 1);
    pool.close();
    expect(() => pool.apply(t('square'), [1])).toThrow(/closed/);
    expect(() => pool.apply(t('square'), [1])).toThrow(ProcessError);
    expect(await result).toEqual([1, 4, 9, 16]);
    await pool.join();
    checkProcesses(pool, (procs) => expect(procs).toEqual([]));
  });

  it('checks the arguments of its calls', async () => {
    const pool = p.make(1);
    expect(() => pool.map('square' as any, [1])).toThrow(/function or a module reference/);
    expect(() => pool.map(t('square'), 5 as any)).toThrow(/iterable/);
    expect(() => pool.map(t('square'), [1], { chunksize: 0 })).toThrow(/chunksize/);
    pool.terminate();
    await pool.join();
  });
}
