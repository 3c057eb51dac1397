import { ProcessError, TimeoutError } from '@multiproc/errors';
import type { Readiness } from '@multiproc/core';
import { waitFor, waitOptions } from '@multiproc/core/internal';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Python's `AsyncResult`: what `applyAsync`/`mapAsync`/`starmapAsync` return. `get()` resolves
 * with the result or rejects with the task's error (or `TimeoutError` when `timeout` runs out).
 */
export class AsyncResult<T = unknown> {
  #settled: Settled<T> | null = null;
  #waiters = new Set<() => void>();

  /** @internal */
  _settle(s: Settled<T>): void {
    if (this.#settled) return;
    this.#settled = s;
    for (const w of this.#waiters) w();
    this.#waiters.clear();
  }

  /** Whether the call has completed. */
  ready(): boolean {
    return this.#settled !== null;
  }

  /** Whether the call completed without throwing; throws if it is not ready yet (as Python). */
  successful(): boolean {
    if (!this.#settled) throw new ProcessError('successful(): the result is not ready yet (check ready() or await wait())');
    return this.#settled.ok;
  }

  /** Waits until the result is ready or `timeout` seconds pass. */
  wait(options?: number | null | { timeout?: number | null; signal?: AbortSignal }): Promise<void> {
    const { ms, signal } = waitOptions(options, 'wait()');
    return this.#until(ms, signal).then(() => undefined);
  }

  /** The result; rejects with the task's error, or `TimeoutError` if not ready within `timeout` seconds. */
  get(options?: number | null | { timeout?: number | null; signal?: AbortSignal }): Promise<T> {
    const { ms, signal } = waitOptions(options, 'get()');
    return this.#until(ms, signal).then((ready) => {
      if (!ready) throw new TimeoutError(`get(): the result was not ready within ${ms! / 1000} s`);
      const s = this.#settled!;
      if (s.ok) return s.value;
      throw s.error;
    });
  }

  #until(ms: number | null, signal: AbortSignal | undefined): Promise<boolean> {
    // Core's one wait loop (timer, abort, settle); no hold(): a pool with work keeps the process alive itself.
    const readiness: Readiness = {
      ready: () => this.#settled !== null,
      subscribe: (wake) => {
        this.#waiters.add(wake);
        return () => this.#waiters.delete(wake);
      },
    };
    return waitFor(readiness, ms, signal);
  }
}
