import { execFile } from 'node:child_process';
import { closeSync, ftruncateSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { type AsyncWaitResult, anonymous, map, shmOpen, shmUnlink, unmap, wait, waitAsync, wake } from '@multiproc/native';
import { child, expectNoLeaks, parkedWaits, uniqueName, wakeOne } from './helpers';

expectNoLeaks();
const name = uniqueName();
const fd = shmOpen(name, 'create');
ftruncateSync(fd, 4096);
const buffer = map(fd, 4096);
closeSync(fd);
const view = new Int32Array(buffer);
afterAll(() => shmUnlink(name));

const asyncWait = (index: number, expected: number, ms: number) =>
  new Promise<AsyncWaitResult>((resolve) => waitAsync(view, index, expected, ms, resolve));

describe('wait and wake in one process', () => {
  it("answers 'not-equal' when the word differs, 'timed-out' after the timeout", () => {
    Atomics.store(view, 10, 5);
    expect(wait(view, 10, 4, Infinity)).toBe('not-equal');
    const t = performance.now();
    expect(wait(view, 10, 5, 30)).toBe('timed-out');
    expect(performance.now() - t).toBeGreaterThanOrEqual(29);
    expect(wait(view, 10, 5, 0)).toBe('timed-out');
    expect(wait(view, 10, 5, -5)).toBe('timed-out');
    expect(wake(view, 10, Infinity)).toBe(0);
  });

  it('async: not-equal, timed-out, woken, cancelled', async () => {
    expect(await asyncWait(11, 1, Infinity)).toBe('not-equal');
    const t = performance.now();
    expect(await asyncWait(11, 0, 30)).toBe('timed-out');
    expect(performance.now() - t).toBeGreaterThanOrEqual(29);
    const woken = asyncWait(12, 0, Infinity);
    await wakeOne(wake, view, 12);
    expect(await woken).toBe('ok');
    let handle!: { cancel(): void };
    const cancelled = new Promise((resolve) => (handle = waitAsync(view, 13, 0, Infinity, resolve)));
    const c = performance.now();
    handle.cancel();
    handle.cancel();
    expect(await cancelled).toBe('cancelled');
    expect(performance.now() - c).toBeLessThan(500);
    handle.cancel(); // settled: a no-op
  });

  it('a cancel wakes the other waiters on the word spuriously; they re-check', async () => {
    const other = asyncWait(14, 0, Infinity);
    let handle!: { cancel(): void };
    const cancelled = new Promise((resolve) => (handle = waitAsync(view, 14, 0, Infinity, resolve)));
    // Cancel only once both threads sleep in the kernel, else `other` would not be woken by it.
    while (parkedWaits() < 2) await new Promise((r) => setImmediate(r));
    handle.cancel();
    expect(await cancelled).toBe('cancelled');
    expect(await other).toBe('ok');
  });

  it('8 pending async waits leave the event loop free: a timer fires, fs.readFile completes', async () => {
    const results = Array.from({ length: 8 }, (_, i) => asyncWait(20 + i, 0, Infinity));
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 5));
    await readFile(__filename);
    await readFile(join(__dirname, 'helpers.ts'));
    expect(performance.now() - t).toBeLessThan(500);
    for (let i = 0; i < 8; i++) await wakeOne(wake, view, 20 + i);
    expect(await Promise.all(results)).toEqual(Array(8).fill('ok'));
  });

  it('a pending async wait keeps its memory mapped through unmap(), until it settles', async () => {
    const f = anonymous();
    ftruncateSync(f, 4096);
    const own = new Int32Array(map(f, 4096));
    closeSync(f);
    let handle!: { cancel(): void };
    const result = new Promise((resolve) => (handle = waitAsync(own, 0, 0, Infinity, resolve)));
    unmap(own.buffer as ArrayBuffer);
    expect(own.length).toBe(0);
    handle.cancel();
    expect(await result).toBe('cancelled');
  });

  it('refuses bad views, indexes and values, naming them', () => {
    const done = () => {};
    expect(() => wait(new Int32Array(4), 0, 0, 0)).toThrow(/view must be an Int32Array over memory from map\(\)/);
    expect(() => wait(new Uint32Array(buffer) as any, 0, 0, 0)).toThrow(/view must be an Int32Array over memory from map\(\), not Uint32Array/);
    expect(() => wait([] as any, 0, 0, 0)).toThrow(TypeError);
    expect(() => wait(view, 1024, 0, 0)).toThrow(/index must be an integer from 0 to 1023/);
    expect(() => wait(view, -1, 0, 0)).toThrow(RangeError);
    expect(() => wait(view, 0.5, 0, 0)).toThrow(RangeError);
    expect(() => wait(view, '0' as any, 0, 0)).toThrow(TypeError);
    expect(() => wait(view, 0, 2 ** 31, 0)).toThrow(/expected must be a 32-bit signed integer/);
    expect(() => wait(view, 0, 0, NaN)).toThrow(/timeoutMs/);
    expect(() => wait(view, 0, 0, '1' as any)).toThrow(TypeError);
    expect(() => wake(view, 0, -1)).toThrow(/count must be an integer from 0, or Infinity/);
    expect(() => waitAsync(view, 0, 0, 0, null as any)).toThrow(/done must be a function/);
    expect(() => waitAsync(new Int32Array(4), 0, 0, 0, done)).toThrow(TypeError);
    // A subarray of a mapping is a fine view; its bounds are its own.
    const sub = view.subarray(100, 102);
    expect(wait(sub, 1, 1, 0)).toBe('not-equal');
    expect(() => wake(sub, 2, 1)).toThrow(RangeError);
  });
});

describe('across processes', () => {
  it('a sync wait in a child is woken from here, and times out alone', async () => {
    const c = child('segment.mjs', ['name', name]);
    await c.next();
    c.proc.send({ op: 'wait', index: 30, expected: 0, timeoutMs: 'Infinity' });
    await wakeOne(wake, view, 30);
    expect(await c.next()).toMatchObject({ result: 'ok' });
    c.proc.send({ op: 'wait', index: 30, expected: 0, timeoutMs: 50 });
    const timed = await c.next();
    expect(timed.result).toBe('timed-out');
    expect(timed.ms).toBeGreaterThanOrEqual(49);
    c.proc.send({ op: 'wait', index: 30, expected: 1, timeoutMs: 'Infinity' });
    expect(await c.next()).toMatchObject({ result: 'not-equal' });
    c.proc.send({ op: 'exit' });
    expect(await c.exited).toBe(0);
  });

  it('an async wait in a child is woken from here; a wait here is woken by a child', async () => {
    const c = child('segment.mjs', ['name', name]);
    await c.next();
    c.proc.send({ op: 'waitAsync', index: 31, expected: 0, timeoutMs: 'Infinity' });
    expect(await c.next()).toEqual({ started: true });
    await wakeOne(wake, view, 31);
    expect(await c.next()).toMatchObject({ result: 'ok' });
    // The other way: the child stores then wakes; this process waits async.
    const mine = asyncWait(32, 0, 5000);
    c.proc.send({ op: 'store', index: 32, value: 1 });
    await c.next();
    wake(view, 32, 1);
    expect(['ok', 'not-equal']).toContain(await mine);
    c.proc.send({ op: 'exit' });
    expect(await c.exited).toBe(0);
  });
});

describe('lifetime', () => {
  const run = async (mode: string) => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(__dirname, 'fixtures', 'keep-alive.mjs'), JSON.stringify([mode])], {
      timeout: 10_000,
    });
    return stdout;
  };

  it('a pending async wait keeps a process alive until it settles, then lets it exit', async () => {
    const out = JSON.parse(await run('timeout'));
    expect(out.result).toBe('timed-out');
    expect(out.ms).toBeGreaterThanOrEqual(199);
    expect(JSON.parse(await run('settled'))).toEqual({ result: 'not-equal' });
  });

  it('a process exiting with pending async waits exits cleanly', async () => {
    expect(await run('exit')).toBe('');
  });

  it('a worker_thread terminated with pending async waits: no crash, no hang, the addon still works', async () => {
    expect(JSON.parse(await run('worker'))).toEqual({ result: 'timed-out', after: 'terminate' });
  });
});
