import { Fifo } from './fifo';

/** An item in the broker: its place in the queue's order, the producer it came from, its frame. */
export interface Entry {
  seq: number;
  from: number;
  frame: Buffer;
}

/**
 * A queue's items not yet handed to anyone, one line per producer, in the order they were put.
 * `take` gives the oldest item among the producers a consumer may receive from (see the
 * broker's ownership rule); items given back return to the front of their producer's line,
 * so they go out again before everything that producer put after them.
 */
export class Backlog {
  #lines = new Map<number, Fifo<Entry>>();
  /** The lines with items, in no particular order (few: one per producer putting now). */
  #busy: Fifo<Entry>[] = [];
  #length = 0;
  #seq = 0;

  get length(): number {
    return this.#length;
  }

  push(from: number, frame: Buffer): void {
    this.#line(from).push({ seq: this.#seq++, from, frame });
    this.#length++;
  }

  #line(from: number): Fifo<Entry> {
    let line = this.#lines.get(from);
    if (!line) this.#lines.set(from, (line = new Fifo()));
    if (line.length === 0) this.#busy.push(line);
    return line;
  }

  /** The producers with items here. */
  producers(): number[] {
    return this.#busy.map((line) => line.peek()!.from);
  }

  /** The oldest item of a producer `may(from)` allows, or undefined. */
  take(may: (from: number) => boolean): Entry | undefined {
    let best = -1;
    let bestSeq = Infinity;
    for (let i = 0; i < this.#busy.length; i++) {
      const head = this.#busy[i].peek()!;
      if (head.seq < bestSeq && may(head.from)) {
        best = i;
        bestSeq = head.seq;
      }
    }
    if (best < 0) return undefined;
    const line = this.#busy[best];
    const e = line.shift()!;
    if (line.length === 0) {
      this.#busy[best] = this.#busy[this.#busy.length - 1];
      this.#busy.pop();
      if (this.#lines.size > 64) this.#lines.delete(e.from);
    }
    this.#length--;
    return e;
  }

  giveBack(entries: Entry[]): void {
    for (const e of entries.sort((a, b) => b.seq - a.seq)) {
      this.#line(e.from).unshift(e);
      this.#length++;
    }
  }
}
