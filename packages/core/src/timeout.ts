import { refuseUnknownOptions } from './options';

/** Timeouts are seconds, as in Python; `null`/`undefined` means no limit and negatives count as 0. */
export function secondsToMs(timeout: unknown, what = 'timeout'): number | null {
  if (timeout === null || timeout === undefined || timeout === Infinity) return null;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
    throw new TypeError(`${what} must be a number of seconds or null (no limit), got ${describe(timeout)}`);
  }
  return Math.max(0, timeout) * 1000;
}

export interface WaitOptions {
  timeout?: number | null;
  signal?: AbortSignal;
}

/** Accepts a wait's two forms, `f(1.5)` and `f({ timeout: 1.5, signal })`, and checks both. */
export function waitOptions(arg: unknown, what: string): { ms: number | null; signal: AbortSignal | undefined } {
  if (arg !== null && typeof arg === 'object') {
    const { timeout, signal, ...rest } = arg as WaitOptions;
    refuseUnknownOptions(rest, ['timeout', 'signal'], what);
    checkSignal(signal, what);
    return { ms: secondsToMs(timeout, `${what}: timeout`), signal };
  }
  return { ms: secondsToMs(arg, `${what}: timeout`), signal: undefined };
}

export function checkSignal(signal: unknown, what: string): asserts signal is AbortSignal | undefined {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${what}: signal must be an AbortSignal, got ${describe(signal)}`);
  }
}

/** The error an aborted wait rejects with, as Node's own APIs make it. */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason });
  err.name = 'AbortError';
  (err as any).code = 'ABORT_ERR';
  return err;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no prototype'})`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}
