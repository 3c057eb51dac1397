import { describe, expect, it } from 'vitest';
import { Process } from '@multiproc/core';
import { Pipe, type Connection } from '@multiproc/pipe';
import { Queue } from '@multiproc/queue';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const start = (name: string, args: unknown[]) => {
  const p = new Process({ target: { module: targets, export: name }, args });
  p.start();
  return p;
};

type Item = { p: number; i: number } | null;
/** Producer 0's items 0…n-1, a null after the first `before`. */
const withNullAt = (n: number, before: number): Item[] => [
  ...Array.from({ length: before }, (_, i) => ({ p: 0, i })),
  null,
  ...Array.from({ length: n - before }, (_, i) => ({ p: 0, i: before + i })),
];
const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

// Several consumers read ahead (see docs/queue.md). What one holds when it stops getting must
// still reach the others, each producer's items in order, once: the broker recalls it.
describe('several consumers', () => {
  for (const nowait of [false, true]) {
    it(`a consumer that stops holding items it read ahead, and stays alive: another ${nowait ? 'polling getNowait()' : 'waiting in get()'} gets them, in order, once`, async () => {
      const q = new Queue<Item>();
      for (const x of withNullAt(2000, 1000)) await q.put(x);
      const [a, aChild] = Pipe();
      const holder = start('stopAtNullAndStay', [q, aChild]);
      const first: number[] = await a.recv();
      expect(first).toEqual(ids(0, 1000));
      // The holder is alive and idle; what it read past the null is not handed to anyone yet.
      const [b, bChild] = Pipe();
      const taker = start('take', [q, bChild, 1000, nowait]);
      expect(await b.recv()).toEqual(ids(1000, 2000));
      expect(holder.isAlive()).toBe(true);
      await a.send('quit');
      await Promise.all([holder.join(), taker.join()]);
      expect([holder.exitCode, taker.exitCode]).toEqual([0, 0]);
      for (const c of [a, aChild, b, bChild]) c.close();
      q.close();
    });
  }

  it("the creator is one of them: what its own gets read ahead reaches a child's, once", async () => {
    const q = new Queue<Item>();
    const producer = start('producerWithSentinel', [q, 0, 1000]);
    await producer.join();
    for (let i = 1000; i < 2000; i++) await q.put({ p: 0, i });
    const got: number[] = [];
    for (let x; (x = await q.get()) !== null; ) got.push(x.i);
    expect(got).toEqual(ids(0, 1000));
    const [b, bChild] = Pipe();
    const taker = start('take', [q, bChild, 1000, false]);
    expect(await b.recv()).toEqual(ids(1000, 2000));
    await taker.join();
    b.close();
    bChild.close();
    q.close();
  });

  it('2 producers × 2 consumers that stop at a null and stay alive: every item once, each producer in order', async () => {
    for (let round = 0; round < 3; round++) {
      const q = new Queue<Item>();
      const per = 20_000;
      const pipes = [Pipe(), Pipe()];
      const consumers = pipes.map(([, w]) => start('stopAtNullAndStay', [q, w]));
      const producers = [0, 1].map((p) => start('producerWithSentinel', [q, p, per]));
      const got = await Promise.all(pipes.map(([r]) => r.recv() as Promise<number[]>));
      const all = got.flat();
      expect(all.length).toBe(2 * per);
      expect(new Set(all).size).toBe(2 * per);
      // Each consumer saw each producer's items in the order put.
      for (const g of got) {
        const last = new Map<number, number>();
        for (const v of g) {
          const producer = Math.floor(v / 1e6);
          if (last.has(producer)) expect(v).toBeGreaterThan(last.get(producer)!);
          last.set(producer, v);
        }
      }
      for (const [r] of pipes) await (r as Connection).send('quit');
      await Promise.all([...producers, ...consumers].map((p) => p.join()));
      for (const c of pipes.flat()) c.close();
      q.close();
    }
  });
});
