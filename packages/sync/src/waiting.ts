import { abortError, checkSignal, describeValue, refuseUnknownOptions, secondsToMs } from '@multiproc/core/internal';
import { native } from './native';
import { park, type WordRule } from './parking';

/** `attempt(idle)`: tries once; `idle` after a whole chunk passed unwoken. */
export type Attempt = (idle: boolean) => boolean;

/** Settled answers, shared: an acquire that need not wait allocates nothing. */
export const TRUE: Promise<boolean> = Promise.resolve(true);
export const FALSE: Promise<boolean> = Promise.resolve(false);

export interface WaitArgs {
  ms: number | null;
  signal?: AbortSignal;
  /** On timeout, the last word (a Condition decides there whether it was notified after all). */
  expire?: () => boolean;
}

/**
 * Waits without blocking until `attempt` succeeds (true), the timeout passes (false, or what
 * `expire` says), or the signal aborts (AbortError). The caller tried the fast path already.
 */
export function waitAsync(view: Int32Array, index: number, rule: WordRule, attempt: Attempt, { ms, signal, expire }: WaitArgs): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = () => {
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const remove = park(view, index, rule, {
      retry(idle) {
        if (!attempt(idle)) return false;
        finish();
        resolve(true);
        return true;
      },
    });
    // park() tries at once: a waiter that succeeded there must not get a timer, whose expire()
    // (a Condition's leave) would later take a notify meant for another waiter.
    if (settled) return;
    function onAbort() {
      remove();
      finish();
      reject(abortError(signal!));
    }
    if (ms !== null) {
      timer = setTimeout(() => {
        remove();
        finish();
        resolve(expire ? expire() : false);
      }, ms);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The same, blocking this thread: native waits in chunks, so a lock can check its owner between them. */
export function waitSync(view: Int32Array, index: number, rule: WordRule, attempt: Attempt, ms: number | null, expire?: () => boolean): boolean {
  const deadline = ms === null ? Infinity : performance.now() + ms;
  let idle = false;
  for (;;) {
    // The value before the check: a change after it makes the native wait return at once.
    const v = Atomics.load(view, index);
    if (attempt(idle)) return true;
    idle = false;
    if (!rule.sleepable(v)) continue;
    const left = deadline - performance.now();
    if (left <= 0) return expire ? expire() : false;
    idle = native().wait(view, index, v, Math.min(rule.chunkMs, left)) === 'timed-out' && left > rule.chunkMs;
  }
}

export interface AcquireOptions {
  /** false: take it only if free now (Python's `block=False`). */
  block?: boolean;
  /** Seconds; null: no limit. */
  timeout?: number | null;
  signal?: AbortSignal;
}

/** `acquire(block, timeout)` or `acquire({ block, timeout, signal })`, checked. */
export function acquireArgs(a: unknown, b: unknown, what: string): { block: boolean; ms: number | null; signal: AbortSignal | undefined } {
  if (a !== null && typeof a === 'object') {
    if (b !== undefined) throw new TypeError(`${what}: pass either (block, timeout) or an options object, not both`);
    const { block = true, timeout = null, signal, ...rest } = a as AcquireOptions;
    refuseUnknownOptions(rest, ['block', 'timeout', 'signal'], what);
    checkSignal(signal, what);
    return { block: checkBlock(block, what), ms: secondsToMs(timeout, `${what}: timeout`), signal };
  }
  return { block: checkBlock(a ?? true, what), ms: secondsToMs(b, `${what}: timeout`), signal: undefined };
}

function checkBlock(block: unknown, what: string): boolean {
  if (typeof block !== 'boolean') throw new TypeError(`${what}: block must be true or false, got ${describeValue(block)}`);
  return block;
}

/** `wait(timeout)` or `wait({ timeout, signal })`. */
export function waitArgs(a: unknown, what: string): { ms: number | null; signal: AbortSignal | undefined } {
  if (a !== null && typeof a === 'object') {
    const { timeout = null, signal, ...rest } = a as { timeout?: number | null; signal?: AbortSignal };
    refuseUnknownOptions(rest, ['timeout', 'signal'], what);
    checkSignal(signal, what);
    return { ms: secondsToMs(timeout, `${what}: timeout`), signal };
  }
  return { ms: secondsToMs(a, `${what}: timeout`), signal: undefined };
}

/** What `hold()` resolves to: `using _ = await lock.hold()` releases at the end of the block. */
export function holding(release: () => void): Disposable {
  let done = false;
  return {
    [Symbol.dispose]() {
      if (done) return;
      done = true;
      release();
    },
  };
}
