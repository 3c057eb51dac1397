import { ProcessError } from '@multiproc/errors';
import { reduce, type Reduced } from '@multiproc/core';
import { abortError, describeValue } from '@multiproc/core/internal';
import { native } from './native';
import { lineFor } from './kinds';
import { isLock, RLock, type AnyLock } from './lock';
import type { WordRule } from './parking';
import { waitArgs, waitAsync, waitSync, type AcquireOptions } from './waiting';

/**
 * A condition's line, Int32 0: sleepers (waiters not yet notified) in bits 0..15, signals
 * (notifications not yet taken) from bit 16. notify(n) moves min(n, sleepers) from one to the
 * other in one compareExchange; a waiter leaves by taking a signal (notified) or, on its
 * timeout, a signal if one is there, else by leaving the sleepers; only a waiter that arrived
 * before some notify (the generation moved) takes a signal. Every waiter still waiting is
 * counted exactly once: notify(n) wakes at most n, and never one that came after it — what
 * Python's Condition gets from its three semaphores, without notify blocking until the woken
 * wake (which a sleeper in the notifier's own process could not do). Waiters sleep on the
 * generation, not on word 0: word 0 comes back to a value it had (a waiter arriving after a
 * notify restores it), so a sleeper that checked before the notify could sleep through its wake.
 */
const SIGNAL = 1 << 16;
const SLEEPERS = SIGNAL - 1;
/** Int32 1: notify()'s generation. A waiter takes a signal only from a notify after it arrived. */
const GEN = 1;
// A waiter may sleep with signals pending (they are not for it): it sleeps until the next notify.
const RULE: WordRule = { sleepable: () => true, chunkMs: 1000 };

/** Python's `multiprocessing.Condition(lock = RLock())` across processes. */
export class Condition {
  readonly #w: Int32Array;
  readonly #lock: AnyLock;

  constructor(lock?: AnyLock | null) {
    [this.#w] = lineFor(); // first: a received condition adopts its line before any new lock takes one
    native();
    if (lock !== undefined && lock !== null && !isLock(lock)) throw new TypeError(`new Condition(lock): lock must be a Lock or RLock, got ${describeValue(lock)}`);
    this.#lock = lock ?? new RLock();
  }

  /** The lock it waits with. */
  get lock(): AnyLock {
    return this.#lock;
  }

  acquire(block?: boolean | AcquireOptions, timeout?: number | null): Promise<boolean> {
    return this.#lock.acquire(block, timeout);
  }

  acquireSync(block?: boolean, timeout?: number | null): boolean {
    return this.#lock.acquireSync(block, timeout);
  }

  release(): void {
    this.#lock.release();
  }

  hold(block?: boolean | AcquireOptions, timeout?: number | null): Promise<Disposable> {
    return this.#lock.hold(block, timeout);
  }

  /** A waiter's two ways out, for one that arrived at generation `g0` (read holding the lock, as notify() runs). */
  #waiter(): { take: () => boolean; leave: () => boolean } {
    const w = this.#w;
    const g0 = Atomics.load(w, GEN);
    Atomics.add(w, 0, 1);
    const take = (): boolean => {
      if (Atomics.load(w, GEN) === g0) return false;
      let c = Atomics.load(w, 0);
      while (c >>> 16 > 0) {
        const seen = Atomics.compareExchange(w, 0, c, c - SIGNAL);
        if (seen === c) return true;
        c = seen;
      }
      return false;
    };
    // Leaving unnotified (timeout, abort): a signal there for it counts as notified; else it leaves the sleepers.
    const leave = (): boolean => {
      const eligible = Atomics.load(w, GEN) !== g0;
      let c = Atomics.load(w, 0);
      for (;;) {
        // No sleeper left: a notify (in another process) moved this one and has yet to move the generation.
        const notified = (eligible || (c & SLEEPERS) === 0) && c >>> 16 > 0;
        if (!notified && (c & SLEEPERS) === 0) return false;
        const seen = Atomics.compareExchange(w, 0, c, notified ? c - SIGNAL : c - 1);
        if (seen === c) return notified;
        c = seen;
      }
    };
    return { take, leave };
  }

  #mine(what: string): void {
    if (!this.#lock.isMine()) throw new ProcessError(`Condition.${what}: this process does not hold the condition's lock`);
  }

  /** Gives up the lock (every level of an RLock), as a waiter must. */
  #releaseAll(): number {
    const depth = this.#lock instanceof RLock ? this.#lock.count : 1;
    for (let i = 0; i < depth; i++) this.#lock.release();
    return depth;
  }

  /**
   * Releases the lock, waits until notified (true) or `timeout` seconds pass (false), and takes
   * the lock again before it settles, even when its signal aborts it (then it rejects with AbortError).
   */
  async wait(timeout?: number | null | { timeout?: number | null; signal?: AbortSignal }): Promise<boolean> {
    const { ms, signal } = waitArgs(timeout, 'Condition.wait()');
    this.#mine('wait()');
    if (signal?.aborted) throw abortError(signal);
    const { take, leave } = this.#waiter();
    const depth = this.#releaseAll();
    // A wait aborted after a notify reached it passes that notify on, so notify(1) is never lost.
    let passOn = false;
    try {
      if (ms === 0) return leave();
      return await waitAsync(this.#w, GEN, RULE, take, { ms, signal, expire: leave });
    } catch (err) {
      passOn = leave();
      throw err;
    } finally {
      await this.#lock.acquire();
      for (let i = 1; i < depth; i++) this.#lock.acquireSync();
      if (passOn) this.notify(1);
    }
  }

  /** The same, blocking this thread while it waits. */
  waitSync(timeout?: number | null): boolean {
    const { ms } = waitArgs(timeout, 'Condition.waitSync()');
    this.#mine('waitSync()');
    const { take, leave } = this.#waiter();
    const depth = this.#releaseAll();
    try {
      return waitSync(this.#w, GEN, RULE, take, ms, leave);
    } finally {
      for (let i = 0; i < depth; i++) this.#lock.acquireSync();
    }
  }

  /** Python's `wait_for`: waits until `predicate()` is truthy (its value), or `timeout` seconds pass (its last value). */
  async waitFor<T>(predicate: () => T, timeout?: number | null | { timeout?: number | null; signal?: AbortSignal }): Promise<T> {
    const { ms, signal } = waitArgs(timeout, 'Condition.waitFor()');
    const end = ms === null ? null : performance.now() + ms;
    let result = predicate();
    while (!result) {
      let left: number | null = null;
      if (end !== null) {
        left = end - performance.now();
        if (left <= 0) break;
      }
      await this.wait({ timeout: left === null ? null : left / 1000, signal });
      result = predicate();
    }
    return result;
  }

  /** Wakes up to `n` of the processes (or awaits) waiting on it. The caller must hold the lock. */
  notify(n: number = 1): void {
    this.#mine('notify()');
    if (typeof n !== 'number' || !(n >= 0)) throw new TypeError(`Condition.notify(n): n must be a number ≥ 0, got ${describeValue(n)}`);
    let c = Atomics.load(this.#w, 0);
    for (;;) {
      const k = Math.min(n, c & SLEEPERS);
      if (k === 0) return;
      const seen = Atomics.compareExchange(this.#w, 0, c, c - k + k * SIGNAL);
      if (seen === c) break;
      c = seen;
    }
    // After the signals: a waiter that sees the new generation finds its signal there.
    Atomics.add(this.#w, GEN, 1);
    // Everyone re-checks; the signals decide who goes. (A wake of k could be spent on a waiter
    // whose await was just abandoned, and then k others would sleep on with a signal pending.)
    native().wake(this.#w, GEN);
  }

  notifyAll(): void {
    this.notify(Infinity);
  }

  [reduce](): Reduced {
    return ['@multiproc/sync:Condition', { view: this.#w, lock: this.#lock }];
  }

  toString(): string {
    const c = Atomics.load(this.#w, 0);
    return `<Condition(${String(this.#lock)}, ${c & SLEEPERS})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
