import type { WaitHandle } from '@multiproc/native';
import { native } from './native';

/**
 * Async waits, one native waiter per word per process. A native `waitAsync` parks a thread of the
 * addon's own (~1 µs to wake, a thread each): 1000 awaits on one lock would be 1000 threads. So
 * the JavaScript waiters on a word queue here, behind one native wait; when it returns (woken,
 * timed out, or spuriously), every queued waiter re-checks its condition, and the wait is armed
 * again while any remain.
 */
export interface Parked {
  /**
   * Tries to make progress (take the lock, a unit of the semaphore, ...). Returns true when the
   * waiter is done (it settled its promise); `idle` is true after a whole chunk passed unwoken
   * (a lock then checks whether its owner died). Must not throw.
   */
  retry(idle: boolean): boolean;
}

export interface WordRule {
  /** Whether the word's value `v` lets waiters sleep (false: re-check at once, the word changed). */
  sleepable(v: number): boolean;
  /** How long one native wait lasts at most, ms: a lock checks its owner between chunks. */
  chunkMs: number;
}

interface Park {
  view: Int32Array;
  index: number;
  rule: WordRule;
  waiters: Set<Parked>;
  handle: WaitHandle | null;
  key: number;
  table: Map<number, Park>;
}

const tables = new WeakMap<ArrayBufferLike, Map<number, Park>>();

/** Queues `waiter` on `view[index]`; returns a function that removes it (on its timeout or abort). */
export function park(view: Int32Array, index: number, rule: WordRule, waiter: Parked): () => void {
  let table = tables.get(view.buffer);
  if (!table) tables.set(view.buffer, (table = new Map()));
  const key = view.byteOffset + index * 4;
  let p = table.get(key);
  if (!p) table.set(key, (p = { view, index, rule, waiters: new Set(), handle: null, key, table }));
  p.waiters.add(waiter);
  const parkRef = p;
  if (!p.handle) rearm(p);
  return () => {
    if (!parkRef.waiters.delete(waiter)) return;
    // The last waiter left: the native wait is no use. cancel() wakes every waiter on the word,
    // in every process, so no wake meant for someone else is lost to this one.
    if (!parkRef.waiters.size && parkRef.handle) parkRef.handle.cancel();
  };
}

function retryAll(p: Park, idle: boolean): void {
  // A copy: a waiter that succeeds leaves the set.
  for (const w of [...p.waiters]) if (w.retry(idle)) p.waiters.delete(w);
}

/**
 * Arms the native wait with the value read BEFORE the waiters re-checked: if the word changes
 * after their check, the kernel sees a different value and returns at once (a futex's rule).
 */
function rearm(p: Park, idle = false): void {
  while (p.waiters.size && !p.handle) {
    const v = Atomics.load(p.view, p.index);
    retryAll(p, idle);
    idle = false;
    if (!p.waiters.size || !p.rule.sleepable(v)) continue;
    p.handle = native().waitAsync(p.view, p.index, v, p.rule.chunkMs, (result) => {
      p.handle = null;
      rearm(p, result === 'timed-out');
    });
  }
  if (!p.waiters.size && !p.handle && p.table.get(p.key) === p) p.table.delete(p.key);
}
