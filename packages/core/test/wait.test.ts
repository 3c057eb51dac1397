import { describe, expect, it } from 'vitest';
import { Process, wait } from '@multiproc/core';
import { Sentinel, waitable } from '@multiproc/core/internal';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });

describe('wait()', () => {
  it('resolves with the sentinels of processes that ended, as soon as one has', async () => {
    const quick = new Process({ target: ref('noop') });
    const slow = new Process({ target: ref('forever') });
    quick.start();
    slow.start();
    const ready = await wait([slow.sentinel, quick.sentinel]);
    expect(ready).toEqual([quick.sentinel]);
    expect(await wait([slow.sentinel], 0.05)).toEqual([]);
    slow.terminate();
    expect(await wait([slow.sentinel], null)).toEqual([slow.sentinel]);
    expect(await wait([slow.sentinel, quick.sentinel])).toEqual([slow.sentinel, quick.sentinel]);
  });

  it('keeps the process alive while it waits on a daemonic child', async () => {
    const d = new Process({ target: ref('resolvesLater'), daemon: true });
    d.start();
    expect(await wait([d.sentinel])).toEqual([d.sentinel]);
    expect(d.exitCode).toBe(0);
  });

  it('works on any object implementing the waitable protocol, and is abortable', async () => {
    const s = new Sentinel('test');
    const ac = new AbortController();
    const pending = wait([s], { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    const later = wait([s], { timeout: 5 });
    s.set();
    expect(await later).toEqual([s]);
    expect(typeof s[waitable]).toBe('function');
  });

  it('rejects what it cannot wait on, naming it', async () => {
    await expect(wait([1 as any])).rejects.toThrow(/objects\[0\] is number 1, not something to wait on/);
    await expect(wait(null as any)).rejects.toThrow(TypeError);
    await expect(wait([], 'x' as any)).rejects.toThrow(/timeout must be a number/);
  });

  it('resolves with [] after the timeout when nothing is ready', async () => {
    expect(await wait([new Sentinel('never')], 0)).toEqual([]);
    expect(await wait([], 0.01)).toEqual([]);
  });
});
