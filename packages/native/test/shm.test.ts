import { closeSync, existsSync, fstatSync, ftruncateSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { anonymous, loadError, map, shmOpen, shmUnlink, unmap, wait } from '@multiproc/native';
import { child, expectNoLeaks, uniqueName } from './helpers';

expectNoLeaks();
const created: string[] = [];
afterEach(() => {
  for (const name of created.splice(0)) if (existsSync(`/dev/shm/${name}`)) shmUnlink(name);
});

function segment(size: number): { name: string; buffer: ArrayBuffer } {
  const name = uniqueName();
  const fd = shmOpen(name, 'create');
  created.push(name);
  ftruncateSync(fd, size);
  const buffer = map(fd, size);
  closeSync(fd);
  return { name, buffer };
}

describe('segments and mappings', () => {
  it('loads here', () => {
    expect(loadError()).toBeNull();
  });

  it('creates exclusively and attaches only to what exists, naming the segment', () => {
    const name = uniqueName();
    const fd = shmOpen(name, 'create');
    created.push(name);
    expect(() => shmOpen(name, 'create')).toThrow(expect.objectContaining({ code: 'EEXIST', message: expect.stringContaining(name) }));
    const fd2 = shmOpen(name, 'attach');
    closeSync(fd);
    closeSync(fd2);
    shmUnlink(name);
    expect(() => shmOpen(name, 'attach')).toThrow(expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining(name) }));
    expect(() => shmUnlink(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('maps one named segment in two processes: each sees the other\'s writes', async () => {
    const { name, buffer } = segment(4096);
    const view = new Int32Array(buffer);
    view[0] = 1234;
    const c = child('segment.mjs', ['name', name]);
    expect(await c.next()).toEqual({ ready: true, word0: 1234 });
    c.proc.send({ op: 'store', index: 0, value: 5678 });
    expect(await c.next()).toMatchObject({ done: true });
    expect(view[0]).toBe(5678);
    c.proc.send({ op: 'exit' });
    expect(await c.exited).toBe(0);
  });

  it('Atomics.add from 2 processes × 10^6 counts exactly 2×10^6', async () => {
    const { name, buffer } = segment(4096);
    const view = new Int32Array(buffer);
    const kids = [child('segment.mjs', ['name', name]), child('segment.mjs', ['name', name])];
    await Promise.all(kids.map((k) => k.next()));
    for (const k of kids) k.proc.send({ op: 'add', parties: 2, times: 1_000_000 });
    await Promise.all(kids.map((k) => k.next()));
    expect(Atomics.load(view, 0)).toBe(2_000_000);
    for (const k of kids) k.proc.send({ op: 'exit' });
    await Promise.all(kids.map((k) => k.exited));
  });

  it('an unnamed segment reaches a child as an fd at spawn, and through /proc/<pid>/fd/<n>; nothing in /dev/shm', async () => {
    const fd = anonymous();
    ftruncateSync(fd, 8192);
    const view = new Int32Array(map(fd, 8192));
    view[0] = 42;
    const byFd = child('segment.mjs', ['fd', 4], [fd]);
    expect(await byFd.next()).toEqual({ ready: true, word0: 42 });
    byFd.proc.send({ op: 'store', index: 0, value: 43 });
    await byFd.next();
    expect(view[0]).toBe(43);
    byFd.proc.send({ op: 'exit' });
    // A process this one did not spawn opens the parent's fd by path (what @multiproc/shared does).
    const byPath = child('segment.mjs', ['path', `/proc/${process.pid}/fd/${fd}`]);
    expect(await byPath.next()).toEqual({ ready: true, word0: 43 });
    byPath.proc.send({ op: 'store', index: 0, value: 44 });
    await byPath.next();
    expect(view[0]).toBe(44);
    byPath.proc.send({ op: 'exit' });
    await Promise.all([byFd.exited, byPath.exited]);
    closeSync(fd);
  });

  it('unmap() detaches every view (length 0, no segfault); twice is a no-op', () => {
    const { buffer } = segment(4096);
    const view = new Int32Array(buffer);
    const bytes = new Uint8Array(buffer, 100, 10);
    view[0] = 7;
    unmap(buffer);
    expect(buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(bytes.length).toBe(0);
    expect(view[0]).toBeUndefined();
    unmap(buffer);
    expect(() => wait(view, 0, 0, 0)).toThrow(RangeError);
  });

  it('a mapping is unmapped when its buffer is collected', async () => {
    const { gc } = globalThis as { gc?: () => void };
    const name = uniqueName();
    const count = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(`/dev/shm/${name}`)).length;
    const fd = shmOpen(name, 'create');
    created.push(name);
    ftruncateSync(fd, 4096);
    for (let i = 0; i < 50; i++) map(fd, 4096);
    closeSync(fd);
    expect(count()).toBe(50);
    expect(gc, 'vitest.config.mts runs this file with --expose-gc').toBeTypeOf('function');
    // V8 runs an external buffer's finalizer after the collection, on a later task: collect
    // until it has (each round is a task), within a bound.
    for (let i = 0; i < 100 && count() > 0; i++) {
      gc!();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(count()).toBe(0);
  });

  it('refuses a size past the segment\'s end, 0, and bad arguments, naming them', () => {
    const name = uniqueName();
    const fd = shmOpen(name, 'create');
    created.push(name);
    ftruncateSync(fd, 100);
    expect(() => map(fd, 101)).toThrow(/size 101 is larger than the segment \(100 bytes\)/);
    expect(() => map(fd, 0)).toThrow(RangeError);
    expect(() => map(fd, 0)).toThrow(/size must be a byte count/);
    expect(() => map(fd, 1.5)).toThrow(RangeError);
    expect(() => map(fd, '100' as any)).toThrow(TypeError);
    expect(() => map(-1, 100)).toThrow(/fd must be a file descriptor/);
    expect(() => map(9999, 100)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => map(fd, 2 ** 60)).toThrow(RangeError);
    expect(fstatSync(fd).size).toBe(100);
    closeSync(fd);
    expect(() => shmOpen('a/b', 'create')).toThrow(/name must be 1 to \d+ bytes/);
    expect(() => shmOpen('', 'create')).toThrow(TypeError);
    expect(() => shmOpen('..', 'attach')).toThrow(TypeError);
    expect(() => shmOpen(42 as any, 'create')).toThrow(/name must be a string, not 42/);
    expect(() => shmOpen(name, 'open' as any)).toThrow(/mode must be 'create' or 'attach', not "open"/);
    expect(() => unmap(new ArrayBuffer(8))).toThrow(/ArrayBuffer returned by map\(\)/);
    expect(() => unmap({} as any)).toThrow(TypeError);
  });
});
