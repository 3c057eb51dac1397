import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Process } from '@multiproc/core';
import { Pipe } from '@multiproc/pipe';
import { Queue } from '@multiproc/queue';
import { Pool } from '@multiproc/pool';
import { RawArray, RawValue, SharedArray, SharedMemory, Value } from '@multiproc/shared';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });

async function run(name: string, ...args: unknown[]): Promise<Process> {
  const p = new Process({ target: ref(name), args });
  p.start();
  return p;
}


describe('RawArray and SharedArray', () => {
  it('a typed array over shared memory, for each typecode, zeroed or initialized', () => {
    const cases = [
      ['b', Int8Array], ['B', Uint8Array], ['h', Int16Array], ['H', Uint16Array], ['i', Int32Array],
      ['I', Uint32Array], ['f', Float32Array], ['d', Float64Array], ['q', BigInt64Array], ['Q', BigUint64Array],
      ['l', BigInt64Array], ['L', BigUint64Array],
    ] as const;
    for (const [code, Type] of cases) {
      const a = RawArray(code, 5);
      expect(a).toBeInstanceOf(Type);
      expect(a.length).toBe(5);
      expect([...a].every((v) => v == 0)).toBe(true);
    }
    expect([...RawArray('i', [1, 2, 3])]).toEqual([1, 2, 3]);
    expect([...RawArray('q', [1n, 2])]).toEqual([1n, 2n]);
    expect([...RawArray('d', new Set([0.5, 1.5]))]).toEqual([0.5, 1.5]);
    const s = SharedArray('d', [1, 2]);
    expect(s).toBeInstanceOf(Float64Array);
    expect([...s.getObj()]).toEqual([1, 2]);
    s.getObj()[0] = 7;
    expect(s[0]).toBe(7); // the same memory
  });

  it('travels to a child as the same memory, and so does a subarray of it', async () => {
    const big = RawArray('d', 100_000); // a segment of its own
    const small = RawArray('i', 10); // in the arena
    for (const [array, value] of [[big, 2.5], [small.subarray(3, 7), 9]] as const) {
      const [a, b] = Pipe();
      const p = await run('fill', array, value, b);
      b.close();
      expect(await a.recv()).toEqual({ type: array.constructor.name, length: array.length, byteOffset: array.byteOffset });
      await p.join();
      expect(p.exitCode).toBe(0);
      a.close();
    }
    expect(big.every((v) => v === 2.5)).toBe(true);
    expect([...small]).toEqual([0, 0, 0, 9, 9, 9, 9, 0, 0, 0]);
  });

  it('travels through a Connection, a Queue and a Pool task as the same memory', async () => {
    const array = RawArray('i', 4);
    const [a, b] = Pipe();
    const p = await run('writeReceived', b);
    b.close();
    await a.send({ view: array.subarray(1), value: 5 });
    expect(await a.recv()).toBe('done');
    const q = new Queue();
    await q.put({ view: array.subarray(2), value: 6 });
    await a.send(await q.get()); // through a Queue (to ourselves), then on to the child
    expect(await a.recv()).toBe('done');
    await a.send(null);
    await p.join();
    expect([...array]).toEqual([0, 5, 6, 0]);
    q.close();
    a.close();

    const data = RawArray('d', 50_000).fill(1);
    const pool = new Pool(2);
    try {
      const sums = await pool.map({ module: targets, export: 'sumOf' } as any, [data, data.subarray(0, 10)]);
      expect(sums).toEqual([50_000, 10]);
    } finally {
      pool.terminate();
      await pool.join();
    }
  });

  it('a view received back from another process is the view of the memory mapped here', async () => {
    const array = RawArray('d', 100_000);
    const [a, b] = Pipe();
    const [c, d] = Pipe();
    const p = await run('forward', b, d);
    b.close();
    d.close();
    await a.send(array);
    const back = (await c.recv()) as Float64Array;
    expect(back.buffer).toBe(array.buffer);
    await a.send('ok');
    await p.join();
    a.close();
    c.close();
  });

  it('refuses bad input with an error naming the argument, mapping nothing', () => {
    const before = readdirSync('/proc/self/fd').length;
    expect(() => RawArray('x' as any, 3)).toThrow(/typecode must be one of 'b' 'B'/);
    expect(() => RawArray('d', -1)).toThrow(/size must be an integer ≥ 0, got number -1/);
    expect(() => RawArray('d', 1.5)).toThrow(/size must be an integer/);
    expect(() => RawArray('d', 2 ** 60)).toThrow(RangeError);
    expect(() => RawArray('d', 'abc' as any)).toThrow(/sizeOrInitializer must be a size/);
    expect(() => RawArray('d', [1, 'x'] as any)).toThrow(/element 1 of the initializer must be a number/);
    expect(() => RawArray('q', [1.5])).toThrow(/must be a BigInt/);
    expect(() => SharedArray('d', 3, { lock: 'yes' } as any)).toThrow(/lock must be true, false, or a Lock or RLock/);
    expect(() => SharedArray('d', 3, { locks: true } as any)).toThrow(/locks/);
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });
});

describe('Value and RawValue', () => {
  it('holds a number of its typecode; getObj() is the same memory', () => {
    const v = new Value('i', 41);
    v.value += 1;
    expect(v.value).toBe(42);
    expect(v.getObj().value).toBe(42);
    v.getObj().value = 7;
    expect(v.value).toBe(7);
    const big = new RawValue('Q', 2n ** 63n);
    expect(big.value).toBe(2n ** 63n);
    const d = new RawValue('d', 0.25);
    expect(d.value).toBe(0.25);
    expect(String(d)).toBe("RawValue('d', 0.25)");
    expect(() => new Value('i', 'x' as any)).toThrow(/init must be a number/);
    expect(() => new RawValue('z' as any)).toThrow(/typecode must be one of/);
    expect(() => (v.value = 'x' as any)).toThrow(/Value.value must be a number/);
  });

  it('N processes adding through Atomics on its view give exactly N×M: one memory, atomic across processes', async () => {
    const exact = new Value('i', 0);
    const N = 2;
    const M = 200_000;
    const procs = await Promise.all(Array.from({ length: N }, () => run('addAtomically', exact, M)));
    await Promise.all(procs.map((p) => p.join()));
    expect(procs.map((p) => p.exitCode)).toEqual([0, 0]);
    expect(exact.value).toBe(N * M);
  });
});

describe('where the native addon cannot load', () => {
  it('importing works, and making an object throws a ProcessError that names the platform', () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-binary-'));
    try {
      const script = `
        const { RawArray, SharedMemory } = require('@multiproc/shared');
        for (const make of [() => RawArray('d', 1), () => new SharedMemory({ create: true, size: 1 })]) {
          try { make(); console.log('made'); } catch (e) { console.log(e.name + ': ' + e.message); }
        }`;
      const r = spawnSync(process.execPath, ['-e', script], { cwd: fileURLToPath(new URL('..', import.meta.url)), env: { ...process.env, '@MULTIPROC/NATIVE_PREBUILD': empty }, encoding: 'utf8' });
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      for (const line of lines) expect(line).toMatch(new RegExp(`^ProcessError: shared memory needs @multiproc/native, which cannot load here: .*${process.platform}`));
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});

describe('SharedMemory', () => {
  it('creates, attaches by name from another process, closes and unlinks as Python does', async () => {
    const shm = new SharedMemory({ create: true, size: 100 });
    expect(shm.name).toMatch(/^psm_/);
    expect(shm.size).toBe(100);
    expect(shm.buf.length).toBe(100);
    expect(readdirSync('/dev/shm')).toContain(shm.name);
    const [a, b] = Pipe();
    const p = await run('writeByName', shm.name, 'hello', b);
    b.close();
    expect(await a.recv()).toBe(100);
    await p.join();
    a.close();
    expect(shm.buf.toString('utf8', 0, 5)).toBe('hello');
    const again = new SharedMemory(shm.name, false);
    expect(again.buf.toString('utf8', 0, 5)).toBe('hello');
    const view = shm.buf;
    shm.close();
    expect(shm.buf.length).toBe(0);
    expect(view.length).toBe(0); // detached, not a dangling pointer
    expect(again.buf.toString('utf8', 0, 5)).toBe('hello'); // its own mapping
    again.close();
    shm.unlink();
    expect(readdirSync('/dev/shm')).not.toContain(shm.name);
  });

  it('refuses a name in use, a name that does not exist, and bad options, naming them', () => {
    const shm = new SharedMemory({ name: `mp_test_${process.pid}`, create: true, size: 10 });
    try {
      expect(() => new SharedMemory({ name: shm.name, create: true, size: 10 })).toThrow(new RegExp(shm.name));
    } finally {
      shm.close();
      shm.unlink();
    }
    expect(() => new SharedMemory({ name: `mp_missing_${process.pid}` })).toThrow(new RegExp(`mp_missing_${process.pid}`));
    expect(() => new SharedMemory({ create: true })).toThrow(/size must be > 0/);
    expect(() => new SharedMemory({ create: true, size: -1 })).toThrow(/size must be an integer ≥ 0/);
    expect(() => new SharedMemory({})).toThrow(/name can only be omitted when create is true/);
    expect(() => new SharedMemory({ name: 'a/b' })).toThrow(/name must be a string/);
    expect(() => new SharedMemory({ create: true, size: 1, sized: 2 } as any)).toThrow(/sized/);
  });

  it('leaves nothing in /dev/shm after children that end normally, by an uncaught error, and by SIGKILL', async () => {
    // By name: other suites (and this file under the other start method) add and remove entries
    // there meanwhile. The library's own segments are unnamed: the child's RawArray has no entry.
    for (const how of ['exit', 'throw', 'kill']) {
      const [a, b] = Pipe();
      const p = await run('createAndEnd', how, b);
      b.close();
      const name = (await a.recv()) as string;
      expect(readdirSync('/dev/shm')).toContain(name);
      await a.send('seen');
      if (how === 'kill') p.kill();
      await p.join();
      a.close();
      expect(p.exitCode).toBe(how === 'exit' ? 0 : how === 'throw' ? 1 : -9);
      // The tracker unlinks after SIGKILL once it sees the pipe close: wait for it, by name.
      for (let i = 0; i < 200 && readdirSync('/dev/shm').includes(name); i++) await new Promise((r) => setTimeout(r, 10));
      expect(readdirSync('/dev/shm')).not.toContain(name);
    }
  });
});
