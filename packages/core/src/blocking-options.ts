// How every queue (local or remote) reads its put/get/join arguments, so both answer alike.
import type { BlockingOptions } from './interfaces';
import { refuseUnknownOptions } from './options';
import { checkSignal, describe as describeValue, secondsToMs } from './timeout';

export interface Parsed {
  block: boolean;
  ms: number | null;
  signal: AbortSignal | undefined;
}

/** `put(x)`/`get()` with no arguments, the common case: no object per call. */
const BLOCKING: Parsed = Object.freeze({ block: true, ms: null, signal: undefined });

/** Accepts Python's positional form `(block, timeout)` and the options object `{ block, timeout, signal }`. */
export function blockingOptions(arg: unknown, timeout: unknown, what: string): Parsed {
  if (arg === undefined && timeout === undefined) return BLOCKING;
  if (arg !== null && typeof arg === 'object') {
    if (timeout !== undefined) throw new TypeError(`${what}: pass either an options object or (block, timeout), not both`);
    const { block = true, timeout: t, signal, ...rest } = arg as BlockingOptions;
    refuseUnknownOptions(rest, ['block', 'timeout', 'signal'], what);
    checkSignal(signal, what);
    return { block: checkBlock(block, what), ms: secondsToMs(t, `${what}: timeout`), signal };
  }
  return { block: checkBlock(arg ?? true, what), ms: secondsToMs(timeout, `${what}: timeout`), signal: undefined };
}

function checkBlock(block: unknown, what: string): boolean {
  if (typeof block !== 'boolean') throw new TypeError(`${what}: block must be true or false, got ${describeValue(block)}`);
  return block;
}

/** `{ timeout, signal }` or a number of seconds. */
export function waitArgs(arg: unknown, what: string): Parsed {
  if (arg !== null && typeof arg === 'object') return blockingOptions({ block: true, ...arg }, undefined, what);
  return blockingOptions(true, arg, what);
}
