/**
 * The 'forkserver' pool's public functions. The pool itself (popen/spares.ts) is in core's start
 * part, loaded at the first of these calls or the first start (see start-part.ts).
 */
import type { ForkserverOptions } from './popen/spares';
import type * as Spares from './popen/spares';
import { startPart } from './start-part';
import type { WaitOptions } from './timeout';

const spares = () => startPart<typeof Spares>();

/** Sets how the 'forkserver' pool keeps its spares: how many, how long they idle, what they preload. */
export function setForkserverOptions(options: ForkserverOptions): void {
  spares().setForkserverOptions(options);
}

/** The 'forkserver' pool's options in force. */
export function getForkserverOptions(): Required<ForkserverOptions> {
  return spares().getForkserverOptions();
}

/**
 * Boots the pool now (it otherwise starts with the first 'forkserver' process) and resolves with
 * true once `spares` spares are ready, or false after `timeout` seconds. Python's
 * `forkserver.ensure_running()`, with a wait: the next starts are then warm.
 */
export function forkserverReady(opts?: number | null | WaitOptions): Promise<boolean> {
  return spares().forkserverReady(opts);
}
