import { Fifo } from './fifo';

/** An item in the broker: its place in the queue's order, and its frame. */
export interface Entry {
  seq: number;
  frame: Buffer;
}

/**
 * A queue's items not yet handed to anyone, in the order they were put. Items go out in order;
 * items given back (by a consumer that left or was asked to) come back in their old places, so
 * they go out again before everything that was put after them.
 */
export class Backlog {
  /** Never sent: all newer than anything ever sent. */
  #fresh = new Fifo<Buffer>();
  /** Given back, in order. */
  #back: Entry[] = [];
  #seq = 0;

  get length(): number {
    return this.#fresh.length + this.#back.length;
  }

  push(frame: Buffer): void {
    this.#fresh.push(frame);
  }

  shift(): Entry | undefined {
    if (this.#back.length > 0) return this.#back.shift();
    const frame = this.#fresh.shift();
    return frame && { seq: this.#seq++, frame };
  }

  giveBack(entries: Entry[]): void {
    if (entries.length === 0) return;
    this.#back = this.#back.concat(entries).sort((a, b) => a.seq - b.seq);
  }
}
