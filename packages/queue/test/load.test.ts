import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Process } from '@multiproc/core';
import { Listener, Pipe, type Connection } from '@multiproc/pipe';
import { Queue } from '@multiproc/queue';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const start = (name: string, args: unknown[]) => {
  const p = new Process({ target: { module: targets, export: name }, args });
  p.start();
  return p;
};

/** Each producer's items, in the order one consumer received them, must be increasing. */
function expectPerProducerOrder(got: number[]): void {
  const last = new Map<number, number>();
  for (const x of got) {
    const p = Math.floor(x / 1e6);
    expect(x % 1e6).toBeGreaterThan(last.get(p) ?? -1);
    last.set(p, x % 1e6);
  }
}

describe('Queue under load and faults', () => {
  it('4 producers × 4 consumers, 50,000 items: each received exactly once, each producer in order', async () => {
    const q = new Queue();
    const P = 4;
    const C = 4;
    const per = 12_500;
    const pipes = Array.from({ length: C }, () => Pipe(false));
    const consumers = pipes.map(([, w]) => start('consumer', [q, w]));
    const producers = Array.from({ length: P }, (_, p) => start('producer', [q, p, per]));
    const results = pipes.map(([r]) => r.recv() as Promise<number[]>);
    await Promise.all(producers.map((p) => p.join()));
    for (let i = 0; i < C; i++) await q.put(null);
    const got = await Promise.all(results);
    await Promise.all(consumers.map((c) => c.join()));
    const all = got.flat();
    expect(all.length).toBe(P * per);
    expect(new Set(all).size).toBe(P * per);
    for (const g of got) expectPerProducerOrder(g);
    expect([...producers, ...consumers].map((p) => p.exitCode)).toEqual(Array(P + C).fill(0));
    for (const c of pipes.flat()) c.close();
    q.close();
  });

  it('1 producer × 3 consumers, 30,000 items: each gets a share (they take the producer in turns), every item once, in order', async () => {
    const q = new Queue();
    const total = 30_000;
    const pipes = Array.from({ length: 3 }, () => Pipe(false));
    const consumers = pipes.map(([, w]) => start('readyConsumer', [q, w]));
    for (const [r] of pipes) expect(await r.recv()).toBe('ready');
    // Its own nulls: after all its items, whoever holds those.
    const producer = start('producerWithSentinel', [q, 0, total, consumers.length]);
    const got = await Promise.all(pipes.map(([r]) => r.recv() as Promise<number[]>));
    await producer.join();
    await Promise.all(consumers.map((c) => c.join()));
    const all = got.flat();
    expect(all.length).toBe(total);
    expect(new Set(all).size).toBe(total);
    for (const g of got) {
      expectPerProducerOrder(g);
      // Turns are up to a read-ahead long (1,024 items), so shares vary; none is starved.
      expect(g.length).toBeGreaterThan(total / 30);
    }
    for (const c of pipes.flat()) c.close();
    q.close();
  });

  it('consumers that stop at a sentinel strand nothing: 2 producers × 2 consumers, one null per producer', async () => {
    // Consumers read ahead; what one of them holds when it stops must reach the other (Python
    // hands items strictly in order, so there this count is always exact).
    for (let round = 0; round < 3; round++) {
      const q = new Queue();
      const per = 20_000;
      const pipes = [Pipe(false), Pipe(false)];
      const consumers = pipes.map(([, w]) => start('countUntilNull', [q, w]));
      const producers = [0, 1].map((p) => start('producerWithSentinel', [q, p, per]));
      const counts = await Promise.all(pipes.map(([r]) => r.recv() as Promise<number>));
      expect(counts[0] + counts[1]).toBe(2 * per);
      await Promise.all([...producers, ...consumers].map((p) => p.join()));
      for (const c of pipes.flat()) c.close();
      q.close();
    }
  });

  it('a consumer killed with SIGKILL mid-traffic: the others get every other item, once; the queue goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpq-kill-'));
    const record = join(dir, 'victim.txt');
    const q = new Queue();
    const total = 40_000;
    const [vr, vw] = Pipe(false);
    const victim = start('recordingConsumer', [q, vw, record, 2_000]);
    const producer = start('producer', [q, 0, total]);
    // The others start once the victim took its 2,000 (sharing from the start, a busy machine
    // could leave it fewer, and this wait would never end); it then holds items read ahead.
    expect(await (vr as Connection).recv()).toBe('busy');
    const pipes = [Pipe(false), Pipe(false)];
    const others = pipes.map(([, w]) => start('consumer', [q, w]));
    const results = pipes.map(([r]) => r.recv() as Promise<number[]>);
    victim.kill();
    await victim.join();
    expect(victim.exitCode).toBe(-9);
    await producer.join();
    for (let i = 0; i < others.length; i++) await q.put(null);
    const got = (await Promise.all(results)).flat();
    await Promise.all(others.map((c) => c.join()));
    const taken = readFileSync(record, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(taken.length).toBeGreaterThanOrEqual(2_000);
    // Nobody got an item twice; all but at most the one the victim was handling arrived.
    const everything = [...got, ...taken];
    expect(new Set(everything).size).toBe(everything.length);
    expect(total - everything.length).toBeLessThanOrEqual(1);
    // And the queue still works for everyone.
    await q.put('after');
    expect(await q.get()).toBe('after');
    for (const c of [vr, vw, ...pipes.flat()]) c.close();
    rmSync(dir, { recursive: true });
    q.close();
  });

  it('a consumer under a file size limit (ulimit -f) still tells what it took: killed, it loses nothing, duplicates nothing', async () => {
    // Its `handed` count is a file's size; past the limit, it is written into the file instead.
    const q = new Queue();
    const total = 6_000;
    const busyAfter = 3_000; // past the limit (1 block: 512 or 1,024 bytes)
    for (let i = 0; i < total; i++) await q.put({ i });
    const authkey = randomBytes(16);
    const listener = new Listener(null, { authkey });
    const fixture = new URL('./fixtures/limited-consumer.mjs', import.meta.url).pathname;
    const victim = spawn('sh', ['-c', 'ulimit -f 1 && exec "$0" "$@"', process.execPath, fixture, listener.address as string, authkey.toString('hex'), String(busyAfter)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      victim.stdout.on('data', (d) => (out += d));
      const conn = await listener.accept();
      await conn.send(q);
      expect(await conn.recv()).toBe('busy');
      victim.kill('SIGKILL');
      await once(victim, 'close');
      conn.close();
      const taken = out.split('\n').filter(Boolean).map(Number);
      expect(taken.length).toBeGreaterThanOrEqual(busyAfter);
      // A null after the rest: what the victim held comes back ahead of it (this process cannot
      // take those items before the broker has seen the victim go: the victim holds them).
      await q.put(null);
      const rest: number[] = [];
      for (let x; (x = await q.get()) !== null; ) rest.push((x as { i: number }).i);
      // All the rest came back, but for at most the item it was handling when killed.
      const everything = [...taken, ...rest];
      expect(new Set(everything).size).toBe(everything.length);
      expect(total - everything.length).toBeLessThanOrEqual(1);
    } finally {
      victim.kill('SIGKILL');
      listener.close();
      q.close();
    }
  });

  it('a producer killed mid-put leaves the queue whole for the others', async () => {
    const q = new Queue(100);
    const producer = start('producer', [q, 7, 10_000_000]);
    // Take some of its items, then kill it while it is still putting.
    for (let i = 0; i < 1000; i++) expect(await q.get()).toEqual({ p: 7, i });
    producer.kill();
    await producer.join();
    // What it had sent arrives in order; nothing is half an item.
    let next = 1000;
    for (;;) {
      let x: { p: number; i: number };
      try {
        x = (await q.get({ timeout: 0.2 })) as { p: number; i: number };
      } catch {
        break;
      }
      expect(x).toEqual({ p: 7, i: next++ });
    }
    await q.put('whole');
    expect(await q.get()).toBe('whole');
    q.close();
  });
});
