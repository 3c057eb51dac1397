import { randomBytes } from 'node:crypto';
import type { Process } from './process';

/**
 * What exists once per OS process: who we are, our children, the name counter, the start method.
 * It hangs off a registered symbol on `globalThis`, so two copies of this package loaded in one
 * process (two installed versions, a bundler's copy) still agree on it.
 */
export interface CoreState {
  /** Our own Process object, made on first use (`currentProcess()`). */
  current: Process | null;
  /** Identity path of this process: `[]` in the main process, `[1, 2]` for `Process-1:2`. */
  identity: number[];
  name: string;
  authkey: Buffer;
  daemon: boolean;
  /** How many Process objects this process has created: the N of `Process-N`. */
  counter: number;
  children: Set<Process>;
  /** The start method fixed by `setStartMethod()`, or null while the default applies. */
  startMethod: string | null;
  /** True while a child imports the target's module, when starting processes must fail. */
  bootstrapping: boolean;
  /** Set in a child: what it knows of its parent. */
  parent: { name: string; pid: number } | null;
}

const KEY = Symbol.for('multiproc.core.state');

export const state: CoreState = ((globalThis as any)[KEY] ??= {
  current: null,
  identity: [],
  name: 'MainProcess',
  authkey: randomBytes(32),
  daemon: false,
  counter: 0,
  children: new Set(),
  startMethod: null,
  bootstrapping: false,
  parent: null,
} satisfies CoreState);
