import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Process, reduce } from '@multiproc/core';
import { Pipe, type Connection } from '@multiproc/pipe';
import { Queue } from '@multiproc/queue';
import { Pool } from '@multiproc/pool';
import { ProcessError } from '@multiproc/errors';
import { RawArray, SharedArray, Value } from '@multiproc/shared';
import { Lock, RLock } from '@multiproc/sync';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });

function start(name: string, ...args: unknown[]): Process {
  const p = new Process({ target: ref(name), args });
  p.start();
  return p;
}

/** A child running `name` with a Connection to us as its last argument. */
function child(name: string, ...args: unknown[]): [Process, Connection] {
  const [a, b] = Pipe();
  const p = start(name, ...args, b);
  b.close();
  return [p, a];
}

const wordOf = (lock: Lock | RLock) => (lock[reduce]() as [string, { view: Int32Array }])[1].view;

describe('Lock and RLock: mutual exclusion across processes', () => {
  for (const [n, m, mode] of [[2, 20_000, 'sync'], [4, 5_000, 'sync'], [3, 5_000, 'hold']] as const) {
    it(`${n} processes × ${m} increments of a Value under its lock (${mode}) give exactly ${n * m}`, async () => {
      const value = new Value('i', 0);
      const gate = RawArray('i', 1);
      const kids = Array.from({ length: n }, () => child('increment', value, m, mode, gate));
      for (const [, conn] of kids) expect(await conn.recv()).toBe('ready');
      Atomics.store(gate, 0, 1); // all start their loops together: they contend
      for (const [p, conn] of kids) {
        await p.join();
        expect(p.exitCode).toBe(0);
        conn.close();
      }
      expect(value.value).toBe(n * m);
    });
  }
});

describe('Lock', () => {
  it('acquire/release in one process; releasing an unlocked Lock throws', async () => {
    const lock = new Lock();
    expect(lock.acquireSync()).toBe(true);
    expect(lock.acquireSync(false)).toBe(false);
    expect(await lock.acquire(false)).toBe(false);
    expect(await lock.acquire(true, 0.05)).toBe(false);
    expect(await lock.acquire({ timeout: 0 })).toBe(false);
    lock.release();
    expect(() => lock.release()).toThrow(ProcessError);
    expect(() => lock.release()).toThrow(/not locked/);
    expect(await lock.acquire()).toBe(true);
    lock.release();
    await expect(lock.acquire('yes' as any)).rejects.toThrow(TypeError);
    await expect(lock.acquire({ nope: 1 } as any)).rejects.toThrow(/unknown option 'nope'/);
  });

  it('another process may release a Lock (as in Python), and then it is free', async () => {
    const lock = new Lock();
    lock.acquireSync();
    const [p, conn] = child('releaseIt', lock);
    expect(await conn.recv()).toBe('released');
    await p.join();
    expect(lock.acquireSync(false)).toBe(true);
    lock.release();
    conn.close();
  });

  it('hold() resolves to a Disposable that releases; rejects with TimeoutError when the timeout passes first', async () => {
    const lock = new Lock();
    const held = await lock.hold();
    expect(lock.acquireSync(false)).toBe(false);
    await expect(lock.hold({ timeout: 0.05 })).rejects.toMatchObject({ name: 'TimeoutError' });
    held[Symbol.dispose]();
    held[Symbol.dispose](); // twice: released once
    expect(lock.acquireSync(false)).toBe(true);
    lock.release();
  });

  it('an AbortSignal rejects a pending acquire with AbortError, and the lock stays usable', async () => {
    const lock = new Lock();
    const [p, conn] = child('holder', lock);
    expect(await conn.recv()).toBe('held');
    const ac = new AbortController();
    const pending = lock.acquire({ signal: ac.signal });
    const other = lock.acquire(); // a second waiter on the same word is not disturbed
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await expect(lock.acquire({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await conn.send('release');
    expect(await conn.recv()).toBe('released');
    expect(await other).toBe(true);
    lock.release();
    expect(await lock.acquire({ timeout: 1 })).toBe(true);
    lock.release();
    await conn.send('exit');
    await p.join();
    conn.close();
  });

  it('a pending acquire leaves the event loop free: a timer fires and a Pipe message arrives meanwhile', async () => {
    const lock = new Lock();
    const [p, conn] = child('holder', lock);
    expect(await conn.recv()).toBe('held');
    let acquired = false;
    const pending = lock.acquire().then((v) => (acquired = v));
    await new Promise((r) => setTimeout(r, 20));
    expect(acquired).toBe(false);
    await conn.send('ping');
    expect(await conn.recv()).toBe('pong');
    expect(acquired).toBe(false);
    await conn.send('release');
    expect(await conn.recv()).toBe('released');
    expect(await pending).toBe(true);
    lock.release();
    await conn.send('exit');
    await p.join();
    conn.close();
  });

  it('1000 pending acquires in one process share one native waiter', async () => {
    const lock = new Lock();
    const threads = () => readdirSync('/proc/self/task').length;
    const [p, conn] = child('holder', lock);
    expect(await conn.recv()).toBe('held');
    await lock.acquire(true, 0.01); // the addon's wait thread exists now (idle threads are kept)
    const before = threads();
    let done = 0;
    const all = Array.from({ length: 1000 }, () => lock.acquire().then(() => (done++, lock.release())));
    // No wait needed: each acquire() parks (and a native wait, with its thread, is armed) before it returns.
    expect(threads()).toBeLessThanOrEqual(before + 1);
    await conn.send('release');
    expect(await conn.recv()).toBe('released');
    await Promise.all(all);
    expect(done).toBe(1000);
    await conn.send('exit');
    await p.join();
    conn.close();
  });
});

describe('RLock', () => {
  it('recursion: the owner acquires again, and needs as many releases', async () => {
    const lock = new RLock();
    expect(await lock.acquire()).toBe(true);
    expect(lock.acquireSync()).toBe(true);
    expect(await lock.acquire(false)).toBe(true);
    expect(String(lock)).toBe('<RLock(MainProcess, 3)>');
    lock.release();
    lock.release();
    expect(lock.isMine()).toBe(true);
    lock.release();
    expect(lock.isMine()).toBe(false);
    expect(() => lock.release()).toThrow(ProcessError);
  });

  it('owned by a process: another cannot take it or release it; its owner releases it level by level', async () => {
    const lock = new RLock();
    const [p, conn] = child('holder', lock, 2);
    expect(await conn.recv()).toBe('held');
    expect(await lock.acquire(false)).toBe(false);
    expect(() => lock.release()).toThrow(new RegExp(`owned by process ${p.pid}, not this one`));
    await conn.send('release');
    expect(await conn.recv()).toBe('released');
    expect(lock.acquireSync(false)).toBe(false); // one level left
    await conn.send('release');
    expect(await conn.recv()).toBe('released');
    expect(lock.acquireSync(false)).toBe(true);
    await conn.send('release'); // now the child does not own it
    expect(await conn.recv()).toMatch(/^error: RLock.release\(\): the lock is owned by process \d+, not this one/);
    lock.release();
    await conn.send('exit');
    await p.join();
    conn.close();
  });
});

describe('a dead owner never deadlocks', () => {
  it('SIGKILLed while holding it: a pending acquire takes it over within ~200 ms, with a MultiprocWarning naming the pid', async () => {
    for (const Kind of [Lock, RLock]) {
      const lock = new Kind();
      const [p, conn] = child('holdForever', lock);
      const pid = await conn.recv();
      expect(pid).toBe(p.pid);
      const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
      const pending = lock.acquire({ timeout: 10 });
      let killedAt = 0;
      const tookAt = pending.then((v) => (expect(v).toBe(true), performance.now()));
      killedAt = performance.now();
      p.kill();
      const took = await tookAt;
      expect(took - killedAt).toBeLessThan(250);
      const warning = await warned;
      expect(warning.name).toBe('MultiprocWarning');
      expect(warning.message).toContain(`process ${pid}`);
      expect(lock.isMine()).toBe(true);
      lock.release();
      await p.join();
      conn.close();
    }
  });

  it('acquireSync takes over from a dead owner too', async () => {
    const lock = new Lock();
    const [p, conn] = child('holdForever', lock);
    const pid = await conn.recv();
    p.kill();
    await p.join();
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    expect(lock.acquireSync(true, 5)).toBe(true);
    expect((await warned).message).toContain(`process ${pid}`);
    lock.release();
    conn.close();
  });

  it('a zombie owner (killed, never reaped) counts as dead', async () => {
    // sh starts a child in the background and becomes `sleep`, which never reaps: once sh has
    // become sleep, the child killed stays a zombie.
    const sh = spawn('sh', ['-c', 'sleep 60 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const zombie = Number(await new Promise<string>((resolve) => sh.stdout.once('data', (d) => resolve(String(d)))));
    const tick = () => new Promise((r) => setImmediate(r));
    while (readFileSync(`/proc/${sh.pid}/cmdline`, 'utf8').startsWith('sh')) await tick();
    process.kill(zombie, 'SIGKILL');
    while (!/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${zombie}/stat`, 'utf8'))) await tick();
    try {
      const lock = new Lock();
      Atomics.store(wordOf(lock), 0, zombie);
      const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
      expect(await lock.acquire({ timeout: 5 })).toBe(true);
      expect((await warned).message).toContain(`process ${zombie}`);
      lock.release();
    } finally {
      sh.kill('SIGKILL');
    }
  });

  it('an owner pid that now belongs to another process (its start time differs) counts as dead', async () => {
    const lock = new Lock();
    const w = wordOf(lock);
    const live = process.ppid; // alive, but not the process that took the lock
    Atomics.store(w, 0, live);
    Atomics.store(w, 1, live);
    Atomics.store(new BigInt64Array(w.buffer, w.byteOffset, 2), 1, 12345n); // not its start time
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    expect(await lock.acquire({ timeout: 5 })).toBe(true);
    expect((await warned).message).toContain(`process ${live}`);
    lock.release();
    // A live owner whose start time matches is left alone.
    lock.acquireSync();
    const [p, conn] = child('tryLock', lock);
    expect(await conn.recv()).toBe(false);
    await p.join();
    lock.release();
    conn.close();
  });
});

describe('locks travel as the same lock', () => {
  it('in Process args, through a Connection, a Queue, a Pool task and initializer', async () => {
    const lock = new Lock();
    const rlock = new RLock();
    lock.acquireSync();
    rlock.acquireSync();
    // Process args
    for (const l of [lock, rlock]) {
      const [p, conn] = child('tryLock', l);
      expect(await conn.recv()).toBe(false);
      await p.join();
      conn.close();
    }
    // a Connection, and a Queue on the way
    const [p, conn] = child('tryReceived');
    await conn.send(lock);
    expect(await conn.recv()).toBe(false);
    const q = new Queue();
    await q.put(rlock);
    await conn.send(await q.get());
    expect(await conn.recv()).toBe(false);
    // released here: the child now gets it, so it is the same word
    lock.release();
    await conn.send(lock);
    expect(await conn.recv()).toBe(true);
    await conn.send(null);
    await p.join();
    conn.close();
    q.close();
    lock.acquireSync();
    // a Pool's initializer and task
    const pool = new Pool({ processes: 1, initializer: ref('keepLock'), initargs: [lock] });
    try {
      expect(await pool.apply(ref('tryInitLock'))).toBe(false);
      expect(await pool.apply(ref('tryTaskLock'), [rlock])).toBe(false);
      lock.release();
      rlock.release();
      expect(await pool.apply(ref('tryInitLock'))).toBe(true);
      expect(await pool.apply(ref('tryTaskLock'), [rlock])).toBe(true);
    } finally {
      await pool.terminate();
    }
  });
});

describe("a Value's and SharedArray's lock", () => {
  it('an RLock by default, the one given as { lock }, none with { lock: false }', () => {
    expect(new Value('i').getLock()).toBeInstanceOf(RLock);
    const lock = new Lock();
    expect(new Value('d', 1, { lock }).getLock()).toBe(lock);
    expect(SharedArray('i', 3).getLock()).toBeInstanceOf(RLock);
    expect(SharedArray('i', 3, { lock }).getLock()).toBe(lock);
    expect(() => new Value('i', 0, { lock: false }).getLock()).toThrow(ProcessError);
    expect(() => SharedArray('i', 2, { lock: false }).getLock()).toThrow(/no lock/);
    expect(() => new Value('i', 0, { lock: {} as any })).toThrow(TypeError);
  });

  it('travels with the value: the child sees the same lock', async () => {
    const value = new Value('i', 0, { lock: new Lock() });
    const array = SharedArray('d', 4);
    value.getLock().acquireSync();
    array.getLock().acquireSync();
    for (const v of [value, array]) {
      const [p, conn] = child('tryValueLock', v);
      expect(await conn.recv()).toBe(false);
      await p.join();
      conn.close();
    }
    value.getLock().release();
    array.getLock().release();
  });
});
