import { describe, expect, it } from 'vitest';
import { Process, getContext } from '@multiproc/core';
import { Pipe, type Connection } from '@multiproc/pipe';
import { BrokenBarrierError, ProcessError } from '@multiproc/errors';
import { SharedArray } from '@multiproc/shared';
import { Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore } from '@multiproc/sync';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });

function child(name: string, ...args: unknown[]): [Process, Connection] {
  const [a, b] = Pipe();
  const p = new Process({ target: ref(name), args: [...args, b] });
  p.start();
  b.close();
  return [p, a];
}

/** Yields to the event loop until `cond()` holds (a handshake on shared state, not a sleep). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

describe('Semaphore and BoundedSemaphore', () => {
  it('counts across processes: a waiter in another process gets a unit when one is released', async () => {
    const sem = new Semaphore(2);
    expect(sem.acquireSync()).toBe(true);
    expect(await sem.acquire()).toBe(true);
    expect(sem.getValue()).toBe(0);
    expect(await sem.acquire(false)).toBe(false);
    expect(sem.acquireSync(true, 0.02)).toBe(false);
    const [p, conn] = child('semWorker', sem);
    sem.release(); // the child's pending acquire takes it
    expect(await conn.recv()).toEqual(['got', 0]);
    expect(sem.getValue()).toBe(0);
    await conn.send('release');
    expect(await conn.recv()).toBe('released');
    expect(sem.getValue()).toBe(1);
    await p.join();
    conn.close();
    sem.release();
    sem.release(); // unbounded: past the initial value is fine
    expect(sem.getValue()).toBe(3);
  });

  it('a BoundedSemaphore throws when released past its initial value', () => {
    const sem = new BoundedSemaphore(2);
    expect(() => sem.release()).toThrow(ProcessError);
    sem.acquireSync();
    sem.release();
    expect(() => sem.release()).toThrow(/released too many times/);
    expect(sem.getValue()).toBe(2);
    expect(String(sem)).toBe('<BoundedSemaphore(value=2, maxvalue=2)>');
  });

  it('hold() and AbortSignal: aborted waits reject, the semaphore stays usable', async () => {
    const sem = new Semaphore(0);
    const ac = new AbortController();
    const pending = sem.acquire({ signal: ac.signal });
    const other = sem.acquire();
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(sem.hold({ timeout: 0.02 })).rejects.toMatchObject({ name: 'TimeoutError' });
    sem.release();
    expect(await other).toBe(true);
    sem.release();
    const held = await sem.hold();
    expect(sem.getValue()).toBe(0);
    held[Symbol.dispose]();
    expect(sem.getValue()).toBe(1);
  });
});

describe('Event', () => {
  it('set() wakes waiters in several processes (async and sync); wait(timeout) resolves false unset', async () => {
    const event = new Event();
    const kids = [child('eventWaiter', event, null, false), child('eventWaiter', event, null, true), child('eventWaiter', event, 10, false)];
    for (const [, conn] of kids) expect(await conn.recv()).toBe('waiting');
    expect(event.isSet()).toBe(false);
    event.set();
    for (const [p, conn] of kids) {
      const [got] = await conn.recv();
      expect(got).toBe(true);
      await p.join();
      conn.close();
    }
    expect(await event.wait(0)).toBe(true);
    event.clear();
    expect(event.isSet()).toBe(false);
    const timed = [child('eventWaiter', event, 0.1, false), child('eventWaiter', event, 0.1, true)];
    for (const [p, conn] of timed) {
      expect(await conn.recv()).toBe('waiting');
      const [got, ms] = await conn.recv();
      expect(got).toBe(false);
      expect(ms).toBeGreaterThanOrEqual(90);
      await p.join();
      conn.close();
    }
    expect(event.waitSync(0.01)).toBe(false);
  });

  it('an AbortSignal rejects a pending wait; the event stays usable', async () => {
    const event = new Event();
    const ac = new AbortController();
    const pending = event.wait({ signal: ac.signal });
    const other = event.wait();
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    event.set();
    expect(await other).toBe(true);
  });
});

describe('Condition', () => {
  it('producer/consumer across processes with waitFor', async () => {
    const cond = new Condition();
    const box = SharedArray('i', 2, { lock: false }); // [full, item]
    // Enough hand-offs that a lost wake-up shows: each one costs a sleeper its whole 1 s chunk, and
    // a wait that took its notify at once must not take another's later (both were seen here).
    const n = 300;
    const [p, conn] = child('producer', cond, box, n);
    const got: number[] = [];
    for (let i = 0; i < n; i++) {
      await cond.acquire();
      expect(await cond.waitFor(() => box[0] === 1, 10)).toBe(true);
      got.push(box[1]);
      box[0] = 0;
      cond.notifyAll();
      cond.release();
    }
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    await p.join();
    expect(p.exitCode).toBe(0);
    conn.close();
  });

  it('notify(n) wakes at most n waiters; wait() times out to false and holds the lock again', async () => {
    const cond = new Condition(new Lock());
    const woken: number[] = [];
    const waiters = [0, 1, 2].map(async (i) => {
      await cond.acquire();
      const r = await cond.wait(5);
      if (r) woken.push(i);
      expect(cond.lock.isMine()).toBe(true);
      cond.release();
      return r;
    });
    await until(() => String(cond).endsWith(', 3)>'));
    await cond.acquire();
    cond.notify(2);
    cond.release();
    await until(() => woken.length === 2);
    expect(String(cond)).toMatch(/, 1\)>$/); // one still waits
    await cond.acquire();
    cond.notifyAll();
    cond.release();
    expect(await Promise.all(waiters)).toEqual([true, true, true]);
    await cond.acquire();
    expect(await cond.wait(0.02)).toBe(false);
    expect(cond.waitSync(0.01)).toBe(false);
    cond.release();
  });

  it('waiting or notifying without the lock throws; an RLock held twice is given up and taken back whole', async () => {
    const cond = new Condition();
    await expect(cond.wait(0)).rejects.toThrow(/does not hold the condition's lock/);
    expect(() => cond.notify()).toThrow(ProcessError);
    const lock = cond.lock as RLock;
    await cond.acquire();
    await cond.acquire();
    expect(await cond.wait(0.01)).toBe(false);
    expect(lock.count).toBe(2);
    cond.release();
    cond.release();
  });

  it('an AbortSignal rejects a pending wait after taking the lock back', async () => {
    const cond = new Condition();
    await cond.acquire();
    const ac = new AbortController();
    const pending = cond.wait({ signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(cond.lock.isMine()).toBe(true);
    cond.notify(); // still usable: nobody waits, nothing happens
    cond.release();
  });

  it('a wait aborted after a notify reached it passes the notify on', async () => {
    const cond = new Condition();
    const lock = cond.lock as RLock;
    const ac = new AbortController();
    await cond.acquire();
    const first = cond.wait({ signal: ac.signal });
    await cond.acquire();
    const second = cond.wait(10);
    await until(() => String(cond).endsWith(', 2)>')); // both asleep
    await cond.acquire();
    cond.notify(1);
    // The first is aborted before any wake-up reaches this process: its leaving takes the
    // notify (a microtask), so only passing it on lets the second go.
    ac.abort();
    cond.release();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    expect(await second).toBe(true);
    while (lock.count > 0) cond.release(); // each wait took the lock back
  });
});

describe('Barrier', () => {
  it('3 parties across processes: indices 0..2, the action runs once, in the last arriver', async () => {
    const barrier = new Barrier(3, { action: ref('barrierAction'), timeout: 20 });
    const kids = [child('barrierWaiter', barrier, null), child('barrierWaiter', barrier, null)];
    for (const [, conn] of kids) expect(await conn.recv()).toBe('waiting');
    await until(() => barrier.nWaiting === 2);
    const mine = await barrier.wait();
    const results = [];
    for (const [p, conn] of kids) {
      results.push(await conn.recv());
      await p.join();
      conn.close();
    }
    expect([mine, ...results.map((r) => r[0])].sort()).toEqual([0, 1, 2]);
    expect(mine).toBe(2); // we arrived last, so the action ran here
    expect((globalThis as any).actionRuns).toBe(1);
    expect(results.map((r) => r[1])).toEqual([0, 0]);
    expect(barrier.nWaiting).toBe(0);
    expect(barrier.broken).toBe(false);
  });

  it('abort() breaks it for waiters in other processes; reset() makes it usable again', async () => {
    const barrier = new Barrier(2);
    const [p, conn] = child('barrierWaiter', barrier, null);
    expect(await conn.recv()).toBe('waiting');
    await until(() => barrier.nWaiting === 1);
    await barrier.abort();
    expect(await conn.recv()).toBe('BrokenBarrierError');
    await p.join();
    conn.close();
    expect(barrier.broken).toBe(true);
    await expect(barrier.wait()).rejects.toBeInstanceOf(BrokenBarrierError);
    await barrier.reset();
    expect(barrier.broken).toBe(false);
    const [q, conn2] = child('barrierWaiter', barrier, null);
    expect(await conn2.recv()).toBe('waiting');
    await until(() => barrier.nWaiting === 1);
    expect(await barrier.wait()).toBe(1);
    expect(await conn2.recv()).toEqual([0, 0]);
    await q.join();
    conn2.close();
  });

  it("a timeout breaks it, as Python's does: the others reject with BrokenBarrierError", async () => {
    const barrier = new Barrier(3);
    const [p, conn] = child('barrierWaiter', barrier, null);
    expect(await conn.recv()).toBe('waiting');
    await until(() => barrier.nWaiting === 1);
    await expect(barrier.wait(0.1)).rejects.toBeInstanceOf(BrokenBarrierError);
    expect(await conn.recv()).toBe('BrokenBarrierError');
    expect(barrier.broken).toBe(true);
    await p.join();
    conn.close();
  });

  it('an AbortSignal rejects a pending wait (and breaks the barrier, as a timeout does)', async () => {
    const barrier = new Barrier(2);
    const ac = new AbortController();
    const pending = barrier.wait({ signal: ac.signal });
    await until(() => barrier.nWaiting === 1);
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(barrier.broken).toBe(true);
    await barrier.reset();
    const both = await Promise.all([barrier.wait(), barrier.wait()]);
    expect(both.sort()).toEqual([0, 1]);
  });

  it('a function action in the same process', async () => {
    let runs = 0;
    const barrier = new Barrier(2, { action: () => runs++ });
    await Promise.all([barrier.wait(), barrier.wait()]);
    expect(runs).toBe(1);
  });
});

describe('getContext()', () => {
  it('offers every primitive, and the shared values', () => {
    const ctx = getContext() as any;
    for (const name of ['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Event', 'Condition', 'Barrier', 'Value', 'RawValue', 'SharedArray', 'RawArray']) {
      expect(typeof ctx[name]).toBe('function');
    }
    expect(new ctx.Lock()).toBeInstanceOf(Lock);
  });
});
