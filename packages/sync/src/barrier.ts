import { BrokenBarrierError } from '@multiproc/errors';
import { reduce, type Reduced } from '@multiproc/core';
import { callerFile, checkTarget, describeTarget, describeValue, loadTarget, refuseUnknownOptions, secondsToMs, type TargetSpec } from '@multiproc/core/internal';
import { Condition } from './condition';
import { lineFor } from './kinds';
import { Lock } from './lock';

/** A barrier's line: Int32 0 its state, 1 how many are in wait(), 2 parties. */
const STATE = 0;
const COUNT = 1;
const PARTIES = 2;
const FILLING = 0;
const DRAINING = 1;
const RESETTING = -1;
const BROKEN = -2;

export type BarrierAction = (() => unknown) | { module: string | URL; export?: string };

export interface BarrierOptions {
  /**
   * Run by the last process to arrive, before any is released. A function that process can run
   * (an exported function, or one written self-contained, as a Process target) or a module
   * reference `{ module, export }`.
   */
  action?: BarrierAction | null;
  /** The default timeout of wait(), seconds. */
  timeout?: number | null;
}

interface Shipped {
  view: Int32Array;
  cond: Condition;
  timeout: number | null;
  action: TargetSpec | null;
}

let adopting: Shipped | null = null;

/**
 * Python's `threading.Barrier` (which `multiprocessing.Barrier` is) across processes, its
 * algorithm over a Condition: `parties` callers of wait() meet, then all go on. A timeout, an
 * abort() or a reset() during a wait breaks it: the waiters reject with BrokenBarrierError.
 */
export class Barrier {
  readonly #w: Int32Array;
  readonly #cond: Condition;
  readonly #timeout: number | null;
  #action: (() => unknown) | null = null;
  #spec: TargetSpec | null = null;
  #given: BarrierAction | null = null;
  readonly #file: string | null = null;

  constructor(parties: number, options: BarrierOptions = {}) {
    const shipped = adopting;
    adopting = null;
    if (shipped) {
      this.#w = shipped.view;
      this.#cond = shipped.cond;
      this.#timeout = shipped.timeout;
      this.#spec = shipped.action;
      return;
    }
    const what = 'new Barrier(parties, options)';
    if (!Number.isInteger(parties) || parties < 1 || parties > 0xffff) throw new TypeError(`${what}: parties must be an integer from 1 to 65535, got ${describeValue(parties)}`);
    if (options === null || typeof options !== 'object') throw new TypeError(`${what}: options must be an object such as { timeout: 5 }, got ${describeValue(options)}`);
    const { action = null, timeout = null, ...rest } = options;
    refuseUnknownOptions(rest, ['action', 'timeout'], what);
    if (action !== null) checkTarget(action, `${what}: action`);
    secondsToMs(timeout, `${what}: timeout`);
    [this.#w] = lineFor();
    this.#w[PARTIES] = parties;
    this.#cond = new Condition(new Lock());
    this.#timeout = timeout;
    this.#given = action;
    if (typeof action === 'function') this.#action = action;
    this.#file = callerFile(__filename);
  }

  get parties(): number {
    return this.#w[PARTIES];
  }

  /** How many wait now (Python's `n_waiting`). */
  get nWaiting(): number {
    return Atomics.load(this.#w, STATE) === FILLING ? Atomics.load(this.#w, COUNT) : 0;
  }

  get broken(): boolean {
    return Atomics.load(this.#w, STATE) === BROKEN;
  }

  #state(): number {
    return Atomics.load(this.#w, STATE);
  }

  #set(state: number): void {
    Atomics.store(this.#w, STATE, state);
  }

  /**
   * Waits until `parties` callers (in any processes) are waiting, then resolves for all: with
   * this caller's arrival index, 0 to parties - 1. Rejects with BrokenBarrierError when the
   * barrier breaks (a timeout, here or in another waiter, breaks it).
   */
  async wait(timeout?: number | null | { timeout?: number | null; signal?: AbortSignal }): Promise<number> {
    const opts = timeout !== null && typeof timeout === 'object' ? timeout : { timeout };
    const t = opts.timeout ?? this.#timeout; // as Python: None means the default
    secondsToMs(t, 'Barrier.wait(): timeout');
    const cond = this.#cond;
    await cond.acquire();
    try {
      while (this.#state() === DRAINING || this.#state() === RESETTING) await cond.wait({ signal: opts.signal });
      if (this.#state() < 0) throw new BrokenBarrierError('the barrier is broken');
      const index = Atomics.add(this.#w, COUNT, 1);
      try {
        if (index + 1 === this.parties) {
          await this.#release();
        } else {
          let done: unknown;
          try {
            done = await cond.waitFor(() => this.#state() !== FILLING, { timeout: t, signal: opts.signal });
          } catch (err) {
            this.#break();
            throw err;
          }
          if (!done) {
            this.#break();
            throw new BrokenBarrierError(`the barrier timed out after ${t} s with ${Atomics.load(this.#w, COUNT)} of ${this.parties} waiting, and is now broken`);
          }
          if (this.#state() < 0) throw new BrokenBarrierError('the barrier was broken (aborted, reset, or another waiter timed out)');
        }
        return index;
      } finally {
        Atomics.sub(this.#w, COUNT, 1);
        // The last one out lets the next round fill.
        if (Atomics.load(this.#w, COUNT) === 0 && (this.#state() === DRAINING || this.#state() === RESETTING)) {
          this.#set(FILLING);
          cond.notifyAll();
        }
      }
    } finally {
      cond.release();
    }
  }

  async #release(): Promise<void> {
    try {
      const action = this.#action ?? (this.#spec ? (this.#action = (await loadTarget(this.#spec)) as () => unknown) : null);
      if (action) await action();
      this.#set(DRAINING);
      this.#cond.notifyAll();
    } catch (err) {
      this.#break();
      throw err;
    }
  }

  #break(): void {
    this.#set(BROKEN);
    this.#cond.notifyAll();
  }

  /** Back to its initial state; waiters now waiting reject with BrokenBarrierError. */
  async reset(): Promise<void> {
    const held = await this.#cond.hold();
    try {
      if (Atomics.load(this.#w, COUNT) > 0) {
        const s = this.#state();
        if (s === FILLING || s === BROKEN) this.#set(RESETTING);
      } else this.#set(FILLING);
      this.#cond.notifyAll();
    } finally {
      held[Symbol.dispose]();
    }
  }

  /** Breaks it: waiters now and to come reject with BrokenBarrierError until reset(). */
  async abort(): Promise<void> {
    const held = await this.#cond.hold();
    try {
      this.#break();
    } finally {
      held[Symbol.dispose]();
    }
  }

  [reduce](): Reduced {
    // The action travels as a Process target does: the receiver imports or compiles it.
    this.#spec ??= this.#given === null ? null : describeTarget(this.#given, this.#file);
    const state: Shipped = { view: this.#w, cond: this.#cond, timeout: this.#timeout, action: this.#spec };
    return ['@multiproc/sync:Barrier', state];
  }

  toString(): string {
    return `<Barrier(parties=${this.parties}, waiting=${this.nWaiting}${this.broken ? ', broken' : ''})>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export function rebuildBarrier(state: Shipped): Barrier {
  adopting = state;
  try {
    return new Barrier(1);
  } finally {
    adopting = null;
  }
}
