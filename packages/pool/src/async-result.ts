import { TimeoutError } from '@multiproc/errors';
import { abortError, waitOptions } from '@multiproc/core/internal';

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
    if (!this.#settled) throw new Error('successful(): the result is not ready yet (check ready() or await wait())');
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
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.#settled) return Promise.resolve(true);
    if (ms === 0) return Promise.resolve(false);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (fn: () => void) => {
        this.#waiters.delete(onReady);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onReady = () => done(() => resolve(true));
      const onAbort = () => done(() => reject(abortError(signal!)));
      this.#waiters.add(onReady);
      if (ms !== null) timer = setTimeout(() => done(() => resolve(false)), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
