import { ProcessError } from '@multiproc/errors';
import { INTERNAL, Process, processInternals } from './process';
import { authkey, state } from './state';
import { waitOptions, type WaitOptions } from './timeout';
import { Sentinel, waitable, waitFor } from './wait';

/**
 * A child's view of its parent (Python's `_ParentProcess`): name and pid, and a sentinel that
 * becomes ready when the parent is gone (its end of our IPC channel closed).
 */
export class ParentProcess extends Process {
  readonly #sentinel: Sentinel;
  readonly #pid: number;

  /** @internal made by the child's bootstrap */
  constructor(name: string, pid: number, sentinel: Sentinel) {
    super(INTERNAL as any);
    processInternals.init(this, { name, identity: [], daemon: false, authkey: authkey(), pid });
    this.#sentinel = sentinel;
    this.#pid = pid;
  }

  override isAlive(): boolean {
    return !this.#sentinel.ready;
  }

  override join(timeout?: number | null | WaitOptions): Promise<void> {
    const { ms, signal } = waitOptions(timeout, 'ParentProcess.join(timeout)');
    return waitFor(this.#sentinel[waitable](), ms, signal).then(() => undefined);
  }

  override get pid(): number {
    return this.#pid;
  }

  override get exitCode(): null {
    return null;
  }

  override get sentinel(): Sentinel {
    return this.#sentinel;
  }

  override start(): never {
    throw new ProcessError('cannot start the parent process');
  }

  override terminate(): never {
    throw new ProcessError('a child cannot terminate its parent through parentProcess()');
  }

  override kill(): never {
    throw new ProcessError('a child cannot kill its parent through parentProcess()');
  }

  override toString(): string {
    return `<ParentProcess(${this.name}, ${this.isAlive() ? 'started' : 'stopped'})>`;
  }
}

/** Python's `parent_process()`: null in the main process, the parent's Process in a child. */
export function parentProcess(): ParentProcess | null {
  return state.parent as ParentProcess | null; // state.ts names it by shape only
}
