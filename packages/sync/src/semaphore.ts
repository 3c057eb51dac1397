import { ProcessError, TimeoutError } from '@multiproc/errors';
import { reduce, type Reduced } from '@multiproc/core';
import { abortError, describeValue } from '@multiproc/core/internal';
import { native } from './native';
import { lineFor } from './kinds';
import type { WordRule } from './parking';
import { acquireArgs, holding, waitAsync, waitSync, type AcquireOptions, TRUE, FALSE } from './waiting';

/**
 * A semaphore's line: Int32 0 the count, 1 how many wait (so a release wakes only when someone
 * does), 2 the bound (a BoundedSemaphore's initial value; -1 unbounded). No owner: as in Python,
 * a process that dies holding a unit takes it with it.
 */
const COUNT = 0;
const WAITING = 1;
const BOUND = 2;
const MAX = 0x7fffffff;

const RULE: WordRule = { sleepable: (v) => v === 0, chunkMs: 1000 };

/** Python's `multiprocessing.Semaphore(value = 1)` across processes. */
export class Semaphore {
  protected readonly w: Int32Array;

  constructor(value: number = 1) {
    const [w, adopted] = lineFor();
    native();
    this.w = w;
    if (adopted) return;
    const what = `new ${new.target.name}(value)`;
    if (!Number.isInteger(value) || value < 0 || value > MAX) throw new TypeError(`${what}: value must be an integer from 0 to ${MAX}, got ${describeValue(value)}`);
    w[COUNT] = value;
    w[BOUND] = new.target === BoundedSemaphore ? value : -1;
  }

  readonly #take = (): boolean => {
    let c = Atomics.load(this.w, COUNT);
    while (c > 0) {
      const seen = Atomics.compareExchange(this.w, COUNT, c, c - 1);
      if (seen === c) return true;
      c = seen;
    }
    return false;
  };

  /** Resolves true once a unit is taken; false when `block` is false and none is left, or after `timeout` seconds. */
  acquire(block?: boolean | AcquireOptions, timeout?: number | null): Promise<boolean> {
    try {
      const { block: b, ms, signal } = acquireArgs(block, timeout, `${this.constructor.name}.acquire()`);
      if (signal?.aborted) return Promise.reject(abortError(signal));
      if (this.#take()) return TRUE;
      if (!b || ms === 0) return FALSE;
      Atomics.add(this.w, WAITING, 1);
      const done = () => void Atomics.sub(this.w, WAITING, 1);
      const p = waitAsync(this.w, COUNT, RULE, this.#take, { ms, signal });
      p.then(done, done);
      return p;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The same, blocking this thread while it waits. */
  acquireSync(block?: boolean, timeout?: number | null): boolean {
    if (block === undefined && timeout === undefined && this.#take()) return true;
    const { block: b, ms } = acquireArgs(block, timeout, `${this.constructor.name}.acquireSync()`);
    if (this.#take()) return true;
    if (!b) return false;
    Atomics.add(this.w, WAITING, 1);
    try {
      return waitSync(this.w, COUNT, RULE, this.#take, ms);
    } finally {
      Atomics.sub(this.w, WAITING, 1);
    }
  }

  /** Gives a unit back (any process may). A BoundedSemaphore throws past its initial value. */
  release(): void {
    const bound = this.w[BOUND];
    if (bound < 0) {
      if (Atomics.add(this.w, COUNT, 1) === MAX) {
        Atomics.sub(this.w, COUNT, 1);
        throw new ProcessError(`${this.constructor.name}.release(): the count would pass ${MAX}`);
      }
    } else {
      let c = Atomics.load(this.w, COUNT);
      for (;;) {
        if (c >= bound) throw new ProcessError(`${this.constructor.name}.release(): released too many times (its initial value is ${bound})`);
        const seen = Atomics.compareExchange(this.w, COUNT, c, c + 1);
        if (seen === c) break;
        c = seen;
      }
    }
    if (Atomics.load(this.w, WAITING) > 0) native().wake(this.w, COUNT, 1);
  }

  /** Acquires (same arguments as `acquire`) and resolves to a Disposable that releases; rejects with TimeoutError when not acquired. */
  async hold(block?: boolean | AcquireOptions, timeout?: number | null): Promise<Disposable> {
    if (!(await this.acquire(block, timeout))) throw new TimeoutError(`${this.constructor.name}.hold(): not acquired in time`);
    return holding(() => this.release());
  }

  /** The count now (Python's `get_value()`). */
  getValue(): number {
    return Atomics.load(this.w, COUNT);
  }

  [reduce](): Reduced {
    return [`@multiproc/sync:${this.constructor === BoundedSemaphore ? 'BoundedSemaphore' : 'Semaphore'}`, { view: this.w }];
  }

  toString(): string {
    const bound = this.w[BOUND];
    return `<${this.constructor.name}(value=${this.getValue()}${bound >= 0 ? `, maxvalue=${bound}` : ''})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Python's `BoundedSemaphore`: releasing past the initial value throws. */
export class BoundedSemaphore extends Semaphore {}
