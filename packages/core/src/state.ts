/**
 * A Process as this state holds it, named by its shape so that this file imports nothing (as
 * CPython's process.py keeps free of popen and util): process.ts's Process is one, and these are
 * all that finalize.ts's exit work asks of a child.
 */
export interface ProcessLike {
  readonly name: string;
  readonly daemon: boolean;
  readonly exitCode: number | null;
  terminate(): void;
  join(): Promise<unknown>;
}

/**
 * What exists once per OS process: who we are, our children, the name counter, the start method.
 * It hangs off a registered symbol on `globalThis`, so two copies of this package loaded in one
 * process (two installed versions, a bundler's copy) still agree on it.
 */
export interface CoreState {
  /** Our own Process object, made on first use (`currentProcess()`). */
  current: ProcessLike | null;
  /** Identity path of this process: `[]` in the main process, `[1, 2]` for `Process-1:2`. */
  identity: number[];
  name: string;
  /** null until first asked for in the main process: a child gets its parent's. */
  authkey: Buffer | null;
  daemon: boolean;
  /** How many Process objects this process has created: the N of `Process-N`. */
  counter: number;
  children: Set<ProcessLike>;
  /** The start method fixed by `setStartMethod()`, or null while the default applies. */
  startMethod: string | null;
  /** True while a child imports the target's module, when starting processes must fail. */
  bootstrapping: boolean;
  /** In a child, its view of the parent (`parentProcess()`, a ParentProcess); null in the main process. */
  parent: ProcessLike | null;
  /** Pids of our ancestors, the main process first: where we are in the tree (for handle routes). */
  lineage: number[];
}

const KEY = Symbol.for('multiproc.core.state');

export const state: CoreState = ((globalThis as any)[KEY] ??= {
  current: null,
  identity: [],
  name: 'MainProcess',
  authkey: null,
  daemon: false,
  counter: 0,
  children: new Set(),
  startMethod: null,
  bootstrapping: false,
  parent: null,
  lineage: [],
} satisfies CoreState);

/** The authkey of this process: random in the main process (made on first use), inherited in a child. */
export function authkey(): Buffer {
  return (state.authkey ??= (require('node:crypto') as typeof import('node:crypto')).randomBytes(32));
}
