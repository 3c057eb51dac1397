import { reduce, type Reduced } from '@multiproc/core';
import { abortError } from '@multiproc/core/internal';
import { native } from './native';
import { lineFor } from './kinds';
import type { WordRule } from './parking';
import { waitArgs, waitAsync, waitSync, type WaitArgs, TRUE, FALSE } from './waiting';

/** An event's line: Int32 0 the flag, 1 how many wait (set() wakes only when someone does). */
const FLAG = 0;
const WAITING = 1;
const RULE: WordRule = { sleepable: (v) => v === 0, chunkMs: 1000 };

/** Python's `multiprocessing.Event` across processes. */
export class Event {
  readonly #w: Int32Array;

  constructor() {
    [this.#w] = lineFor();
    native();
  }

  readonly #isSet = (): boolean => Atomics.load(this.#w, FLAG) === 1;

  isSet(): boolean {
    return this.#isSet();
  }

  /** Sets the flag and wakes every waiter, in every process. */
  set(): void {
    Atomics.store(this.#w, FLAG, 1);
    if (Atomics.load(this.#w, WAITING) > 0) native().wake(this.#w, FLAG);
  }

  clear(): void {
    Atomics.store(this.#w, FLAG, 0);
  }

  /** Resolves with the flag once it is set (true), or after `timeout` seconds (then the flag: false unless set meanwhile). */
  wait(timeout?: number | null | { timeout?: number | null; signal?: AbortSignal }): Promise<boolean> {
    try {
      const { ms, signal } = waitArgs(timeout, 'Event.wait()');
      if (signal?.aborted) return Promise.reject(abortError(signal));
      if (this.#isSet()) return TRUE;
      if (ms === 0) return FALSE;
      Atomics.add(this.#w, WAITING, 1);
      const done = () => void Atomics.sub(this.#w, WAITING, 1);
      const args: WaitArgs = { ms, signal, expire: this.#isSet };
      const p = waitAsync(this.#w, FLAG, RULE, this.#isSet, args);
      p.then(done, done);
      return p;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The same, blocking this thread while it waits. */
  waitSync(timeout?: number | null): boolean {
    if (this.#isSet()) return true;
    const { ms } = waitArgs(timeout, 'Event.waitSync()');
    Atomics.add(this.#w, WAITING, 1);
    try {
      return waitSync(this.#w, FLAG, RULE, this.#isSet, ms, this.#isSet);
    } finally {
      Atomics.sub(this.#w, WAITING, 1);
    }
  }

  [reduce](): Reduced {
    return ['@multiproc/sync:Event', { view: this.#w }];
  }

  toString(): string {
    return `<Event(${this.isSet() ? 'set' : 'unset'})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
