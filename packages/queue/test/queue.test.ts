import { createConnection } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Empty, Full, ProcessError } from '@multiproc/errors';
import { Process, getContext, reduce } from '@multiproc/core';
import { Pipe } from '@multiproc/pipe';
import { JoinableQueue, Queue, SimpleQueue } from '@multiproc/queue';
import { fileURLToPath } from 'node:url';
import { runNode } from '../../core/test/helpers/procs';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });

async function run(name: string, args: unknown[]): Promise<Process> {
  const p = new Process({ target: ref(name), args });
  p.start();
  return p;
}

describe("the creator's own gets", () => {
  // The creator's process holds the broker, so its gets skip the per-get record a child keeps for
  // a SIGKILL (see Participant#ownBroker); leaving alive must still hand back exactly the rest.
  it('then close(): another consumer gets exactly the items the creator did not take, once', async () => {
    const q = new Queue<{ p: number; i: number } | null>();
    const producer = await run('producerWithSentinel', [q, 1, 1000]);
    await producer.join();
    const [a, b] = Pipe();
    const consumer = await run('consumerAfterGo', [q, b]);
    b.close();
    for (let i = 0; i < 10; i++) expect(await q.get()).toEqual({ p: 1, i }); // reading ahead, the only consumer
    q.close();
    await a.send('go');
    const got: number[] = await a.recv();
    expect(got).toEqual(Array.from({ length: 990 }, (_, k) => 1e6 + 10 + k));
    await consumer.join();
    a.close();
  });
});

describe('Queue in one process', () => {
  it('is a FIFO with put/get, sizes, and the no-wait forms', async () => {
    const q = new Queue<number>();
    expect(q.empty()).toBe(true);
    expect(q.qsize()).toBe(0);
    for (let i = 0; i < 5; i++) await q.put(i);
    expect(q.qsize()).toBe(5);
    expect(q.empty()).toBe(false);
    expect(q.full()).toBe(false);
    expect(await q.get()).toBe(0);
    expect(await q.getNowait()).toBe(1);
    expect(await q.get(false)).toBe(2);
    expect(await q.get(true, 1)).toBe(3);
    expect(await q.get({ block: true, timeout: 1 })).toBe(4);
    expect(q.qsize()).toBe(0);
    expect(q.empty()).toBe(true);
    await expect(q.getNowait()).rejects.toBeInstanceOf(Empty);
    await expect(q.get({ timeout: 0.05 })).rejects.toThrow(Empty);
    await q.putNowait(9);
    expect(await q.get()).toBe(9);
    q.close();
  });

  it('carries structured-clone values and our errors as their class', async () => {
    const q = new Queue();
    const value = { m: new Map([[1, new Set([2n])]]), d: new Date(5), b: Buffer.from('xyz'), r: /a+/g, big: 'x'.repeat(100_000) };
    await q.put(value);
    expect(await q.get()).toEqual(value);
    await q.put(new Full('as a value'));
    const e = await q.get();
    expect(e).toBeInstanceOf(Full);
    expect((e as Error).message).toBe('as a value');
    q.close();
  });

  it('refuses what cannot be cloned, at once, and stays usable', async () => {
    const q = new Queue();
    expect(() => q.put(() => 1)).toThrow(/function|clone/i);
    expect(() => q.put({ s: Symbol('x') })).toThrow();
    await q.put('next');
    expect(await q.get()).toBe('next');
    expect(q.qsize()).toBe(0);
    q.close();
  });

  it('bounded: full(), Full at once or after the timeout', async () => {
    const q = new Queue(2);
    await q.put('a');
    await q.put('b');
    expect(q.full()).toBe(true);
    await expect(q.putNowait('c')).rejects.toBeInstanceOf(Full);
    await expect(q.put('c', true, 0.05)).rejects.toBeInstanceOf(Full);
    await expect(q.put('c', { timeout: 0.05 })).rejects.toThrow(/full/);
    expect(await q.get()).toBe('a');
    await q.put('c');
    expect([await q.get(), await q.get()]).toEqual(['b', 'c']);
    expect(q.full()).toBe(false);
    q.close();
  });

  it('a waiting put goes in as soon as there is room', async () => {
    const q = new Queue(1);
    await q.put(1);
    const putting = q.put(2);
    expect(await q.get()).toBe(1);
    await putting;
    expect(await q.get()).toBe(2);
    q.close();
  });

  it('an aborted get rejects with AbortError and loses nothing', async () => {
    const q = new Queue();
    const ac = new AbortController();
    const getting = q.get({ signal: ac.signal });
    ac.abort();
    await expect(getting).rejects.toMatchObject({ name: 'AbortError' });
    await expect(q.get({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await q.put('kept');
    expect(await q.get()).toBe('kept');
    const q2 = new Queue(1);
    await q2.put(0);
    const ac2 = new AbortController();
    const putting = q2.put(1, { signal: ac2.signal });
    ac2.abort();
    await expect(putting).rejects.toMatchObject({ name: 'AbortError' });
    expect(await q2.get()).toBe(0);
    await q2.put(2);
    expect(await q2.get()).toBe(2);
    q.close();
    q2.close();
  });

  it('checks its arguments', () => {
    expect(() => new Queue('3' as any)).toThrow(/maxsize must be an integer/);
    expect(() => new Queue(1.5)).toThrow(TypeError);
    const q = new Queue(-1);
    expect(q.full()).toBe(false);
    expect(() => q.get('yes' as any)).toThrow(/block must be true or false/);
    expect(() => q.get(true, 'soon' as any)).toThrow(/timeout/);
    expect(() => q.get({ timeout: 1, wait: 2 } as any)).toThrow(/unknown option 'wait'/);
    expect(() => q.get({ signal: 'x' as any })).toThrow(/AbortSignal/);
    expect(() => q.put(1, { block: 1 as any })).toThrow(/block/);
    expect(() => q.joinThread()).toThrow(/close\(\) first/);
    expect(() => q.joinThread()).toThrow(ProcessError);
    q.close();
  });

  it('close(): later calls throw, waiting gets end, for-await ends', async () => {
    const q = new Queue<number>();
    for (let i = 0; i < 3; i++) await q.put(i);
    const seen: number[] = [];
    for await (const x of q) {
      seen.push(x);
      if (seen.length === 3) setImmediate(() => q.close());
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(q.closed).toBe(true);
    expect(() => q.put(1)).toThrow(/closed/);
    expect(() => q.get()).toThrow(ProcessError);
    await q.joinThread();
    q.close();
  });

  it('getContext().Queue and friends are these classes', () => {
    const ctx = getContext('spawn');
    expect(ctx.Queue).toBe(Queue);
    expect(ctx.JoinableQueue).toBe(JoinableQueue);
    expect(ctx.SimpleQueue).toBe(SimpleQueue);
  });
});

describe('Queue across processes', () => {
  it("the seed's example: the child puts [42, None, 'hello'], the parent gets it", async () => {
    const q = new Queue();
    const p = await run('putSeed', [q]);
    expect(await q.get()).toEqual([42, null, 'hello']);
    await p.join();
    expect(p.exitCode).toBe(0);
    q.close();
  });

  it('travels inside another Queue and through a Connection', async () => {
    const outer = new Queue();
    const inner = new Queue();
    const p = await run('innerQueue', [outer]);
    await outer.put(inner);
    expect(await inner.get()).toBe('hi from the inner queue');
    await p.join();
    const [a, b] = Pipe();
    const p2 = await run('viaConnection', [b]);
    await a.send(inner);
    expect(await inner.get()).toBe('hi through a Connection');
    await p2.join();
    expect([p.exitCode, p2.exitCode]).toEqual([0, 0]);
    for (const c of [a, b]) c.close();
    outer.close();
    inner.close();
  });

  it('a queue that comes back to its creator is the same object', async () => {
    const q = new Queue();
    const carrier = new Queue();
    await carrier.put(q);
    expect(await carrier.get()).toBe(q);
    q.close();
    carrier.close();
  });

  it('reaches grandchildren', async () => {
    const q = new Queue<string>();
    const p = await run('grandparent', [q]);
    expect(await q.get()).toMatch(/^hi from grandchild \d+$/);
    await p.join();
    expect(p.exitCode).toBe(0);
    q.close();
  });

  it('keeps flowing between two children while the parent computes without yielding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpq-'));
    const flag = join(dir, 'done');
    const q = new Queue();
    const count = 20_000;
    const prod = await run('producer', [q, 0, count]);
    const cons = await run('consumeThenFlag', [q, count, flag]);
    // The parent's event loop is blocked: only the broker thread can be moving the items.
    const deadline = Date.now() + 60_000;
    while (!existsSync(flag) && Date.now() < deadline);
    expect(existsSync(flag)).toBe(true);
    await Promise.all([prod.join(), cons.join()]);
    expect([prod.exitCode, cons.exitCode]).toEqual([0, 0]);
    rmSync(dir, { recursive: true });
    q.close();
  });

  it('a queue whose creator ended fails clearly instead of hanging', async () => {
    const [a, b] = Pipe();
    const p = await run('ownQueue', [b]);
    const q = (await a.recv()) as Queue;
    expect(await q.get()).toBe('from the owner');
    const waiting = expect(q.get()).rejects.toThrow(/queue is gone.*pid \d+/);
    await a.send('you may go');
    await p.join();
    await waiting;
    expect(() => q.put(1)).toThrow(/queue is gone/);
    a.close();
    b.close();
  });

  it('big items (a file in memory carries them) arrive intact, and their files go', async () => {
    const q = new Queue<Buffer>();
    const [, { dir }] = (q as any)[reduce]() as [string, { dir: string }];
    const sizes = [300 * 1024, 2 ** 20, 5 * 2 ** 20];
    const procs = await Promise.all(sizes.map((size) => run('bigProducer', [q, 4, size])));
    const got: Buffer[] = [];
    for (let i = 0; i < 12; i++) got.push(await q.get());
    await Promise.all(procs.map((p) => p.join()));
    for (const size of sizes) {
      const mine = got.filter((b) => b.length === size);
      expect(mine.map((b) => b[0])).toEqual([0, 1, 2, 3]);
      for (const b of mine) expect(b.every((x) => x === b[0])).toBe(true);
    }
    expect(readdirSync(dir).filter((f) => f.startsWith('spill-'))).toEqual([]);
    q.close();
  });

  it("a child's puts are flushed before it exits, as Python joins the feeder thread; cancelJoinThread() skips that", async () => {
    const q = new Queue<{ i: number }>();
    const p = await run('putAndLeave', [q, 20_000, false]);
    await p.join();
    expect(p.exitCode).toBe(0);
    for (let i = 0; i < 20_000; i++) expect((await q.get()).i).toBe(i);
    const p2 = await run('putAndLeave', [q, 20_000, true]);
    await p2.join();
    expect(p2.exitCode).toBe(0);
    // What arrived (maybe not everything) is in order, and the queue goes on.
    await q.put({ i: -1 });
    let next = 0;
    for (let x = await q.get(); x.i !== -1; x = await q.get()) expect(x.i).toBe(next++);
    q.close();
  });

  for (const how of ['await', 'no-await', 'many'] as const) {
    const what = { await: 'await q.put(x)', 'no-await': 'q.put(x)', many: '5,000 unawaited puts' }[how];
    it(`${what}, then process.exit(0) in the same tick: every item arrives`, async () => {
      const q = new Queue();
      const p = await run('putThenExit', [q, how]);
      await p.join();
      expect(p.exitCode).toBe(0);
      if (how === 'many') for (let i = 0; i < 5000; i++) expect(await q.get({ timeout: 10 })).toBe(i);
      else expect(await q.get({ timeout: 10 })).toBe('x');
      q.close();
    });
  }

  it('a producer that puts more than its socket holds and ends at once (before it even met the broker): every item, five times', async () => {
    // A program of its own, run by plain node: that timing (the child gone before the broker read
    // its first bytes) lost all but the first 64 KiB of items in 2 rounds of 5.
    const { code, stdout, stderr } = await runNode(fileURLToPath(new URL('./fixtures/producer-exits.mjs', import.meta.url))).done;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.split('\n')).toEqual(Array(5).fill('12500'));
  });

  it('errors sent as values arrive as their class', async () => {
    const q = new Queue();
    const p = await run('putError', [q]);
    const full = await q.get();
    expect(full).toBeInstanceOf(Full);
    const te = (await q.get()) as Error;
    expect(te).toBeInstanceOf(TypeError);
    expect(te.message).toBe('a plain TypeError');
    await p.join();
    q.close();
  });

  it("a bounded queue makes a fast producer wait for its consumer", async () => {
    const q = new Queue<Buffer>(3);
    const [a, b] = Pipe();
    const p = await run('reportingProducer', [q, b, 20, 64 * 1024]);
    for (let i = 0; i < 3; i++) expect(await a.recv()).toBe(i);
    // Three items fill the queue: the fourth put cannot complete until we take one.
    expect(await a.poll(0.3)).toBe(false);
    expect(q.full()).toBe(true);
    expect(q.qsize()).toBe(3);
    expect((await q.get())[0]).toBe(0);
    expect(await a.recv()).toBe(3);
    for (let i = 1; i < 20; i++) {
      expect((await q.get())[0]).toBe(i % 256);
      expect(q.qsize()).toBeLessThanOrEqual(3);
    }
    await p.join();
    expect(p.exitCode).toBe(0);
    a.close();
    q.close();
  });

  it('a stranger writing garbage or a forged greeting to the broker is refused; the queue goes on', async () => {
    const q = new Queue();
    const [, { dir }] = (q as any)[reduce]() as [string, { dir: string }];
    const refuse = (bytes: Buffer) =>
      new Promise<string>((resolve) => {
        const s = createConnection(join(dir, 'queue.sock'), () => s.write(bytes));
        let got = '';
        s.on('data', (d) => (got += d.toString('latin1')));
        s.on('close', () => resolve(got));
      });
    expect(await refuse(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toMatch(/not a multiproc queue stream/);
    const hello = Buffer.from(JSON.stringify({ n: 0, maxsize: 0, joinable: false, token: '00'.repeat(32) }));
    const forged = Buffer.concat([Buffer.from([hello.length, 0, 0, 0, 1]), hello]);
    expect(await refuse(forged)).toMatch(/bad token/);
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 2]);
    expect(await refuse(huge)).toMatch(/not a multiproc queue stream/);
    await q.put('still here');
    expect(await q.get()).toBe('still here');
    q.close();
  });
});

describe('JoinableQueue and SimpleQueue', () => {
  it('taskDone counting and join() across processes', async () => {
    const tasks = new JoinableQueue<number | null>();
    const results = new Queue<number>();
    const workers = [await run('joinableWorker', [tasks, results]), await run('joinableWorker', [tasks, results])];
    for (let i = 1; i <= 100; i++) await tasks.put(i);
    await tasks.put(null);
    await tasks.put(null);
    expect(await tasks.join()).toBe(true);
    const squares: number[] = [];
    for (let i = 0; i < 100; i++) squares.push(await results.get());
    expect(squares.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => (i + 1) ** 2));
    await Promise.all(workers.map((w) => w.join()));
    await expect(tasks.taskDone()).rejects.toThrow(/too many times/);
    await expect(tasks.taskDone()).rejects.toThrow(ProcessError);
    expect(await tasks.join(0.01)).toBe(true);
    tasks.close();
    results.close();
  });

  it('join() waits for unfinished tasks, with a timeout and a signal', async () => {
    const q = new JoinableQueue();
    await q.put('t');
    expect(await q.join(0.05)).toBe(false);
    await expect(q.join({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const joining = q.join();
    await q.get();
    await q.taskDone();
    expect(await joining).toBe(true);
    q.close();
  });

  it('SimpleQueue: get, put, empty, close, across processes', async () => {
    const a = new SimpleQueue();
    const b = new SimpleQueue();
    expect(a.empty()).toBe(true);
    const p = await run('simpleEcho', [a, b]);
    for (const x of [1, 'two', { three: 3 }, 'stop']) await a.put(x);
    expect([await b.get(), await b.get(), await b.get(), await b.get()]).toEqual([1, 'two', { three: 3 }, 'stop']);
    await p.join();
    expect(b.empty()).toBe(true);
    expect(() => (b as any).get({ timeout: 1 })).toThrow(/no timeout/);
    a.close();
    b.close();
    expect(() => a.put(1)).toThrow(/closed/);
  });
});
