import { ProcessError, TimeoutError } from '@multiproc/errors';
import { reduce, type Reduced } from '@multiproc/core';
import { abortError } from '@multiproc/core/internal';
import { native } from './native';
import { lineFor } from './kinds';
import type { WordRule } from './parking';
import { acquireArgs, holding, waitAsync, waitSync, type AcquireOptions, TRUE, FALSE } from './waiting';

/**
 * A lock's line:
 *
 *     Int32 0: 0 when free, else the owner's pid | WAITERS when someone may be sleeping on it
 *     Int32 1: the pid whose start time is in Int32 2..3 (only trusted when it is the owner's)
 *     Int32 2, 3: that process's start time (processStartTime), low and high 32 bits
 *     Int32 4: an RLock's recursion count (only its owner touches it)
 *
 * Acquiring is one compareExchange of 0 → pid, so the owner is known the moment it owns the lock.
 * A contended acquirer sleeps in chunks of CHUNK_MS; after a chunk unwoken, it checks the owner:
 * gone (SIGKILL included, a zombie counts as gone) or its pid now another process (start time
 * differs) → it takes the lock over. Linux pids are ≤ 2^22, so bit 30 is free.
 */
const WAITERS = 1 << 30;
const PID = WAITERS - 1;
const TAG = 1;
const START_LO = 2;
const START_HI = 3;
const COUNT = 4;
const CHUNK_MS = 100;
const SPIN = 200;

const RULE: WordRule = { sleepable: (v) => (v & WAITERS) !== 0, chunkMs: CHUNK_MS };

let myPid = 0;
let myLo = 0;
let myHi = 0;

/** This process's pid (a Node process never forks: read once), with its start time. */
function me(): number {
  if (myPid === 0) {
    const start = native().processStartTime(process.pid) ?? 0n;
    myLo = Number(start & 0xffffffffn) | 0;
    myHi = Number(start >> 32n) | 0;
    myPid = process.pid;
  }
  return myPid;
}

/** What Lock and RLock share: the word, the owner's identity, the takeover of a dead owner. */
abstract class OwnedLock {
  protected readonly w: Int32Array;
  protected abstract readonly kind: 'Lock' | 'RLock';

  constructor() {
    const [w] = lineFor();
    native(); // where the addon cannot load, say so now, not at the first contended acquire
    this.w = w;
  }

  /** Records who owns it, unless this process did last time (the common uncontended case: no writes). */
  protected stamp(pid: number): void {
    const w = this.w;
    if (w[TAG] !== pid || w[START_LO] !== myLo || w[START_HI] !== myHi) {
      Atomics.store(w, START_LO, myLo);
      Atomics.store(w, START_HI, myHi);
      Atomics.store(this.w, TAG, pid);
    }
  }

  /** Called with the lock just taken. */
  protected abstract taken(): void;

  protected tryFast(pid: number): boolean {
    if (Atomics.compareExchange(this.w, 0, 0, pid) !== 0) return false;
    this.stamp(pid);
    this.taken();
    return true;
  }

  /** One contended attempt: take it (marked as contended, so its release wakes the next), or mark it and report failure. */
  protected readonly attempt = (idle: boolean): boolean => {
    const pid = me();
    const w = this.w;
    let c = Atomics.compareExchange(w, 0, 0, pid | WAITERS);
    for (;;) {
      if (c === 0) {
        this.stamp(pid);
        this.taken();
        return true;
      }
      if (idle && this.#takeOver(c, pid)) return true;
      idle = false;
      if (c & WAITERS) return false;
      const seen = Atomics.compareExchange(w, 0, c, c | WAITERS);
      if (seen === c) return false;
      c = seen === 0 ? Atomics.compareExchange(w, 0, 0, pid | WAITERS) : seen;
    }
  };

  /** The owner in `c` is dead, or its pid belongs to a new process: take the lock from it. */
  #takeOver(c: number, pid: number): boolean {
    const owner = c & PID;
    if (owner === pid) return false;
    const now = native().processStartTime(owner);
    let dead = now === null;
    if (!dead && Atomics.load(this.w, TAG) === owner) {
      const stored = (BigInt(Atomics.load(this.w, START_HI) >>> 0) << 32n) | BigInt(Atomics.load(this.w, START_LO) >>> 0);
      // Re-read the tag: a new owner may have been writing its start time meanwhile.
      dead = stored !== 0n && stored !== now && Atomics.load(this.w, TAG) === owner;
    }
    if (!dead || Atomics.compareExchange(this.w, 0, c, pid | WAITERS) !== c) return false;
    this.stamp(pid);
    this.taken();
    process.emitWarning(
      `${this.kind}: its owner, process ${owner}, ended (or its pid now belongs to another process) without releasing it; process ${pid} took it over`,
      'MultiprocWarning',
    );
    return true;
  }

  protected slowSync(a: unknown, b: unknown, what: string): boolean {
    const { block, ms } = acquireArgs(a, b, what);
    const pid = me();
    if (this.tryFast(pid)) return true;
    if (!block) return false;
    // Held for a few instructions, as locks mostly are: a short spin (plain loads, no waiters
    // mark, so the holder's release wakes nobody) beats a sleep in the kernel and its wake-up.
    for (let i = 0; i < SPIN; i++) if (Atomics.load(this.w, 0) === 0 && this.tryFast(pid)) return true;
    return waitSync(this.w, 0, RULE, this.attempt, ms);
  }

  protected slowAsync(a: unknown, b: unknown, what: string): Promise<boolean> {
    try {
      const { block, ms, signal } = acquireArgs(a, b, what);
      if (signal?.aborted) return Promise.reject(abortError(signal));
      if (this.tryFast(me())) return TRUE;
      if (!block || ms === 0) return FALSE;
      return waitAsync(this.w, 0, RULE, this.attempt, { ms, signal });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  abstract acquire(block?: boolean | AcquireOptions, timeout?: number | null): Promise<boolean>;
  abstract release(): void;

  /**
   * Acquires (same arguments as `acquire`) and resolves to a Disposable that releases:
   * `{ using _ = await lock.hold(); … }` is Python's `with lock:`. Rejects with a TimeoutError
   * when it is not acquired (the timeout passed, or `block` was false and it was taken).
   */
  async hold(block?: boolean | AcquireOptions, timeout?: number | null): Promise<Disposable> {
    if (!(await this.acquire(block, timeout))) throw new TimeoutError(`${this.kind}.hold(): not acquired${typeof block === 'object' && block?.timeout != null ? ` within ${block.timeout} s` : timeout != null ? ` within ${timeout} s` : ''}`);
    return holding(() => this.release());
  }

  /** The owner's pid, or null when free (as Python's repr shows it). */
  protected owner(): number | null {
    const c = Atomics.load(this.w, 0);
    return c === 0 ? null : c & PID;
  }

  /** Whether this process holds it. */
  isMine(): boolean {
    return (Atomics.load(this.w, 0) & PID) === me();
  }

  [reduce](): Reduced {
    return [`@multiproc/sync:${this.kind}`, { view: this.w }];
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * Python's `multiprocessing.Lock`, across processes: any process may release it (as in Python),
 * releasing it unlocked throws. If its owner process dies holding it, the next acquirer takes it
 * over (a `MultiprocWarning` names the dead pid) instead of waiting forever.
 */
export class Lock extends OwnedLock {
  protected readonly kind = 'Lock';

  protected taken(): void {}

  /** Resolves true once acquired; false when `block` is false and it is taken, or after `timeout` seconds. Never blocks the event loop. */
  acquire(block?: boolean | AcquireOptions, timeout?: number | null): Promise<boolean> {
    if (block === undefined && timeout === undefined && this.tryFast(me())) return TRUE;
    return this.slowAsync(block, timeout, 'Lock.acquire()');
  }

  /** The same, blocking this thread (and so the event loop) while it waits: Python's cost, for CPU-bound code. */
  acquireSync(block?: boolean, timeout?: number | null): boolean {
    if (block === undefined && timeout === undefined && this.tryFast(me())) return true;
    return this.slowSync(block, timeout, 'Lock.acquireSync()');
  }

  release(): void {
    const old = Atomics.exchange(this.w, 0, 0);
    if (old === 0) throw new ProcessError('Lock.release(): the lock is not locked (released too many times)');
    if (old & WAITERS) native().wake(this.w, 0, 1);
  }

  override toString(): string {
    const owner = this.owner();
    return `<Lock(owner=${owner === null ? 'None' : owner === me() ? 'MainProcess' : owner})>`;
  }
}

/**
 * Python's `multiprocessing.RLock`: owned by a process (one JavaScript thread, as a Python thread
 * owns it), which may acquire it again; each acquire needs its release, by the owner only.
 * Kill-safe as `Lock`.
 */
export class RLock extends OwnedLock {
  protected readonly kind = 'RLock';

  protected taken(): void {
    this.w[COUNT] = 1;
  }

  #again(pid: number): boolean {
    if ((Atomics.load(this.w, 0) & PID) !== pid) return false;
    this.w[COUNT]++;
    return true;
  }

  acquire(block?: boolean | AcquireOptions, timeout?: number | null): Promise<boolean> {
    const pid = me();
    if (block === undefined && timeout === undefined && (this.tryFast(pid) || this.#again(pid))) return TRUE;
    if (this.#again(pid)) return TRUE;
    return this.slowAsync(block, timeout, 'RLock.acquire()');
  }

  acquireSync(block?: boolean, timeout?: number | null): boolean {
    const pid = me();
    if (block === undefined && timeout === undefined && (this.tryFast(pid) || this.#again(pid))) return true;
    if (this.#again(pid)) return true;
    return this.slowSync(block, timeout, 'RLock.acquireSync()');
  }

  release(): void {
    const c = Atomics.load(this.w, 0);
    if ((c & PID) !== me() || c === 0) {
      throw new ProcessError(c === 0 ? 'RLock.release(): the lock is not acquired' : `RLock.release(): the lock is owned by process ${c & PID}, not this one (${me()})`);
    }
    if (--this.w[COUNT] > 0) return;
    const old = Atomics.exchange(this.w, 0, 0);
    if (old & WAITERS) native().wake(this.w, 0, 1);
  }

  /** How many times the owner holds it (0 when this process does not). */
  get count(): number {
    return this.isMine() ? this.w[COUNT] : 0;
  }

  override toString(): string {
    const owner = this.owner();
    return `<RLock(${owner === null ? 'None' : owner === me() ? 'MainProcess' : owner}, ${owner === null ? 0 : this.w[COUNT]})>`;
  }
}

export type AnyLock = Lock | RLock;

export function isLock(value: unknown): value is AnyLock {
  return value instanceof Lock || value instanceof RLock;
}
