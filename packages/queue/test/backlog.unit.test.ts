// The broker's Backlog and the Fifo under it, by hand: no broker, no process.
import { describe, expect, it } from 'vitest';
import { Backlog } from '../src/backlog';
import { Fifo } from '../src/fifo';

describe('Fifo', () => {
  it('first in, first out; peek and shift on empty give undefined', () => {
    const q = new Fifo<number>();
    expect([q.length, q.peek(), q.shift()]).toEqual([0, undefined, undefined]);
    q.push(1);
    q.push(2);
    expect([q.length, q.peek()]).toEqual([2, 1]);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([1, 2, undefined]);
    expect(q.length).toBe(0);
  });

  it('unshift puts back at the front, before and after shifts', () => {
    const q = new Fifo<string>();
    q.unshift('a');
    q.push('b');
    expect(q.shift()).toBe('a');
    q.unshift('z');
    q.unshift('y');
    expect(q.drain()).toEqual(['y', 'z', 'b']);
    expect(q.length).toBe(0);
  });

  it('keeps its order across the compaction of a long run', () => {
    const q = new Fifo<number>();
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 3000; i++) q.push(next++);
      for (let i = 0; i < 2500; i++) expect(q.shift()).toBe(expected++);
      q.unshift(--expected);
    }
    expect(q.length).toBe(next - expected);
    expect(q.drain()).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i));
  });
});

describe('Backlog', () => {
  const f = (s: string) => Buffer.from(s);
  const names = (es: { frame: Buffer }[]) => es.map((e) => e.frame.toString());

  it('takes the oldest item of the producers allowed', () => {
    const b = new Backlog();
    b.push(1, f('1a'));
    b.push(2, f('2a'));
    b.push(1, f('1b'));
    b.push(3, f('3a'));
    expect(b.length).toBe(4);
    expect(b.producers().sort()).toEqual([1, 2, 3]);
    expect(b.take((from) => from !== 1)!.frame.toString()).toBe('2a');
    expect(b.take(() => false)).toBeUndefined();
    const all = [b.take(() => true)!, b.take(() => true)!, b.take(() => true)!];
    expect(names(all)).toEqual(['1a', '1b', '3a']);
    expect(all.map((e) => e.from)).toEqual([1, 1, 3]);
    expect(b.take(() => true)).toBeUndefined();
    expect([b.length, b.producers()]).toEqual([0, []]);
  });

  it('items given back go out again before what their producer put after them, in their order', () => {
    const b = new Backlog();
    for (const s of ['a1', 'a2', 'a3', 'a4']) b.push(1, f(s));
    b.push(2, f('b1'));
    const taken = [b.take(() => true)!, b.take(() => true)!, b.take(() => true)!];
    expect(names(taken)).toEqual(['a1', 'a2', 'a3']);
    b.push(1, f('a5'));
    b.giveBack([taken[1], taken[0], taken[2]]);
    expect(b.length).toBe(6);
    const out: string[] = [];
    for (let e; (e = b.take(() => true)); ) out.push(e.frame.toString());
    expect(out).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'a5']);
  });

  it('a producer whose line emptied comes back as busy', () => {
    const b = new Backlog();
    b.push(7, f('x'));
    b.take(() => true);
    expect(b.producers()).toEqual([]);
    b.push(7, f('y'));
    expect(b.producers()).toEqual([7]);
    expect(b.take((from) => from === 7)!.frame.toString()).toBe('y');
  });

  it('many producers (lines are dropped once empty past 64) keep their order', () => {
    const b = new Backlog();
    for (let round = 0; round < 3; round++) for (let p = 0; p < 100; p++) b.push(p, f(`${p}:${round}`));
    const out: string[] = [];
    for (let e; (e = b.take(() => true)); ) out.push(e.frame.toString());
    expect(out).toEqual([0, 1, 2].flatMap((round) => Array.from({ length: 100 }, (_, p) => `${p}:${round}`)));
    b.push(5, f('again'));
    expect(names([b.take(() => true)!])).toEqual(['again']);
  });
});
