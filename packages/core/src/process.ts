import { ProcessError } from '@multiproc/errors';
import { inspect } from 'node:util';
import { childEnded, childStarted } from './finalize';
import { debug, info, logPrep } from './log/logger';
import { CLOSED_MESSAGE, GUARD_MESSAGE } from './messages';
import type { LaunchSpec, Popen } from './popen/popen';
import { refuseUnknownOptions } from './options';
import { dumps } from './reduction';
import { backendFor, getStartMethod } from './start-methods';
import { authkey, state } from './state';
import { startPart } from './start-part';
import { checkTarget, type Target } from './target-check';
import type * as Describe from './target/describe';
import { describe, waitOptions, type WaitOptions } from './timeout';
import { flowId, now, record, recordFlow, tracePrep, tracing } from './trace/recorder';
import { waitable, type Sentinel } from './wait';

export interface ProcessOptions {
  /** A function, or a module reference `{ module, export? }` the child imports. */
  target?: Target | null;
  /** Passed to the target positionally. */
  args?: unknown[];
  /** When given, passed to the target as one extra last argument. */
  kwargs?: Record<string, unknown> | null;
  /** Default `Process-N` (`Process-N:M` in a child). */
  name?: string | null;
  /** null/undefined inherits the creating process's flag. */
  daemon?: boolean | null;
  /** Must be null/undefined, as in Python. */
  group?: null;
}

const OPTIONS = ['target', 'args', 'kwargs', 'name', 'daemon', 'group'];
/** A context's Process subclass names its start method under this key. */
export const START_METHOD = Symbol('multiproc.startMethod');
/** Marks classes of ours (Process and the context-bound ones): no need to import them in the child. */
export const BUILTIN_CLASS = Symbol('multiproc.builtinClass');
/** Passed to the constructor by core itself: make a bare object, to be filled in by processInternals. */
export const INTERNAL = Symbol('multiproc.internal');

let signalNames: Map<number, string> | undefined;
/** -15 → 'SIGTERM', for the repr's `stopped[SIGTERM]`; the table is built at the first ask, as node:os (~0.3 ms) is not loaded with core. */
function signalName(code: number): string | undefined {
  signalNames ??= new Map(Object.entries((require('node:os') as typeof import('node:os')).constants.signals).map(([n, v]) => [-v, n]));
  return signalNames.get(code);
}

/** What Process lets the rest of core do to it (the child's bootstrap, the main process). */
interface Identity {
  name: string;
  identity: number[];
  daemon: boolean;
  authkey: Buffer;
  /** Set for the object that stands for the current process (or its parent). */
  pid: number | null;
}
export let processInternals: {
  /** A `cls` instance without running `cls`'s constructor, as Python's unpickling skips `__init__`. */
  create(cls: Function, init: Identity): Process;
  init(p: Process, init: Identity): void;
  setTarget(p: Process, target: Function | null, args: unknown[], kwargs: Record<string, unknown> | undefined): void;
};

/**
 * Python's `multiprocessing.Process`: activity run in a separate OS process. Give it a `target`
 * or subclass it and override `run()`. How the child is started is the start method's business
 * (see `getContext()`); this class only holds identity and intent.
 */
export class Process {
  #target: Target | null = null;
  #args: unknown[] = [];
  #kwargs: Record<string, unknown> | undefined;
  #name = '';
  #identity: number[] = [];
  #daemon = false;
  #authkey: Buffer | null = null;
  #parentPid: number = process.pid;
  #popen: Popen | null = null;
  #closed = false;
  /** The file that called `new Process`, for relative module-reference targets. */
  #callerFile: string | null = null;
  /** For the current process's own object: its pid. */
  #ownPid: number | null = null;

  static [START_METHOD]: string | undefined;
  static [BUILTIN_CLASS] = true;

  constructor(options: ProcessOptions = {}) {
    if ((options as unknown) === INTERNAL) return;
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError(`new Process(options): options must be an object such as { target, args }, got ${describe(options)}`);
    }
    const { target = null, args = [], kwargs, name = null, daemon = null, group = null, ...rest } = options;
    refuseUnknownOptions(rest, OPTIONS, 'new Process(options)');
    if (group !== null && group !== undefined) throw new TypeError('new Process(options): group must be null or undefined (it exists for compatibility with Python, where it must be None)');
    checkTarget(target);
    if (!Array.isArray(args)) throw new TypeError(`new Process(options): args must be an array of positional arguments, got ${describe(args)}`);
    if (kwargs !== undefined && kwargs !== null && (typeof kwargs !== 'object' || Array.isArray(kwargs))) {
      throw new TypeError(`new Process(options): kwargs must be an object (passed as the last argument), got ${describe(kwargs)}`);
    }
    if (name !== null && typeof name !== 'string') throw new TypeError(`new Process(options): name must be a string, got ${describe(name)}`);
    if (daemon !== null && daemon !== undefined && typeof daemon !== 'boolean') {
      throw new TypeError(`new Process(options): daemon must be true, false or null (inherit), got ${describe(daemon)}`);
    }
    state.counter += 1;
    this.#identity = [...state.identity, state.counter];
    this.#name = name ?? `Process-${this.#identity.join(':')}`;
    this.#daemon = daemon ?? state.daemon;
    this.#target = target;
    this.#args = [...args];
    this.#kwargs = kwargs ?? undefined;
    if (typeof target === 'object' && target !== null && typeof target.module === 'string' && /^\.\.?\//.test(target.module)) {
      this.#callerFile = callerFile();
    }
  }

  /** The process's activity: calls the target with args (and kwargs). Override it in a subclass. */
  run(): unknown {
    const target = this.#target;
    if (typeof target === 'function') {
      return this.#kwargs !== undefined ? target(...this.#args, this.#kwargs) : target(...this.#args);
    }
    if (target !== null) throw new ProcessError('run() can only call a module-reference target in a started child process; call start()');
    return undefined;
  }

  /** Starts the child; at most once per object. */
  start(): void {
    this.#checkClosed();
    if (this.#popen !== null || this === state.current) throw new ProcessError(`cannot start a process twice (${this})`);
    if (this.#parentPid !== process.pid) throw new ProcessError('can only start a process object created by the current process');
    if (state.daemon) {
      throw new ProcessError('daemonic processes are not allowed to have children (a daemonic process is terminated when its parent exits, which would orphan them)');
    }
    if (state.bootstrapping) throw new ProcessError(GUARD_MESSAGE);
    reapChildren();
    const cls = this.constructor as typeof Process;
    const method = cls[START_METHOD] ?? (getStartMethod() as string);
    const backend = backendFor(method);
    const spec: LaunchSpec = {
      prep: {
        name: this.#name,
        identity: this.#identity,
        authkey: this.authkey,
        daemon: this.#daemon,
        parentName: state.name,
        parentPid: process.pid,
        lineage: [...state.lineage, process.pid],
        startMethod: method,
        target: startPart<typeof Describe>().describeTarget(this.#target, this.#callerFile),
        cls: Object.prototype.hasOwnProperty.call(cls, BUILTIN_CLASS) ? null : startPart<typeof Describe>().describeClass(cls),
        log: logPrep(),
        trace: tracePrep(),
      },
      dumpObject: (ctx) => dumps({ args: this.#args, kwargs: this.#kwargs, fields: { ...this } }, ctx, 'Process'),
      daemon: this.#daemon,
    };
    // Before the launch: the child's own lines come after this one.
    info('starting %s (%s)', this.#name, method);
    const started = now();
    const popen = backend.launch(spec);
    this.#popen = popen;
    state.children.add(this);
    childStarted(this);
    debug('%s has pid %d', this.#name, popen.pid);
    // The arrow from this start to the child's row (its bootstrap ends it: see startFlow).
    if (tracing()) recordFlow('out', `start ${this.#name}`, 'process', flowId(`start:${popen.pid}`), { pid: popen.pid, startMethod: method }, started, Math.max(2, now() - started));
    const off = popen.sentinel[waitable]().subscribe(() => {
      off();
      // Told by the parent: a child killed by a signal records nothing itself.
      if (tracing()) record({ ph: 'E', name: this.#name, cat: 'process', pid: popen.pid, args: { exitCode: popen.poll() } });
      debug('%s (pid %d) ended with exit code %d', this.#name, popen.pid, popen.poll());
      childEnded(this);
    });
  }

  /**
   * Resolves when the child has ended, or after `timeout` seconds, whichever is first (it
   * resolves on timeout too, as in Python: check `exitCode`). May be called many times.
   */
  join(timeout?: number | null | WaitOptions): Promise<void> {
    this.#checkClosed();
    if (this === state.current) throw new ProcessError('a process cannot join itself (it would wait forever)');
    if (this.#parentPid !== process.pid) throw new ProcessError('can only join a child process');
    if (this.#popen === null) throw new ProcessError(`can only join a started process; call start() first (${this})`);
    const { ms, signal } = waitOptions(timeout, 'Process.join(timeout)');
    return this.#popen.wait(ms, signal).then((code) => {
      if (code !== null) reapChildren();
    });
  }

  /** True from `start()` until the child is known to have ended. */
  isAlive(): boolean {
    if (this === state.current) return true;
    this.#checkClosed();
    if (this.#parentPid !== process.pid) throw new ProcessError('can only test a child process');
    return this.#popen !== null && this.#popen.poll() === null;
  }

  /** Sends SIGTERM (exit code -15). Exit handlers and finally clauses of the child do not run. */
  terminate(): void {
    this.#started('terminate').terminate();
  }

  /** Sends SIGKILL (exit code -9). */
  kill(): void {
    this.#started('kill').kill();
  }

  /** Releases the object's resources; throws while the child runs. Most methods throw afterwards. */
  close(): void {
    if (this.#closed) return;
    if (this.#popen !== null) {
      if (this.#popen.poll() === null) {
        throw new ProcessError('Cannot close a process while it is still running. You should first call join() or terminate().');
      }
      this.#popen.close();
      this.#popen = null;
    }
    state.children.delete(this);
    this.#closed = true;
  }

  get name(): string {
    return this.#name;
  }
  set name(value: string) {
    if (typeof value !== 'string') throw new TypeError(`Process.name must be a string, got ${describe(value)}`);
    this.#name = value;
    if (this === state.current) state.name = value;
  }

  /** Whether the process is daemonic; settable only before `start()`. */
  get daemon(): boolean {
    return this.#daemon;
  }
  set daemon(value: boolean) {
    if (this.#popen !== null) throw new ProcessError('cannot set daemon: the process has already started (set it before start())');
    if (typeof value !== 'boolean') throw new TypeError(`Process.daemon must be true or false, got ${describe(value)}`);
    this.#daemon = value;
  }

  /** The authentication key (inherited from the parent; random in the main process). */
  get authkey(): Buffer {
    return (this.#authkey ??= authkey());
  }
  set authkey(value: Buffer) {
    if (!(value instanceof Uint8Array)) throw new TypeError(`Process.authkey must be a Buffer, got ${describe(value)}`);
    this.#authkey = Buffer.from(value);
    if (this === state.current) state.authkey = this.#authkey;
  }

  /** The OS process id; null before `start()`. */
  get pid(): number | null {
    return this.#ownPid ?? this.#popen?.pid ?? null;
  }

  /** Same as `pid`. */
  get ident(): number | null {
    return this.pid;
  }

  /** null while running; 0 after a normal end, 1 after an error, n for exit(n), -N for signal N. */
  get exitCode(): number | null {
    this.#checkClosed();
    return this.#popen?.poll() ?? null;
  }

  /** Becomes ready, for `wait()`, when the process ends. */
  get sentinel(): Sentinel {
    this.#checkClosed();
    if (this.#popen === null) throw new ProcessError('process not started: a sentinel exists only after start()');
    return this.#popen.sentinel;
  }

  toString(): string {
    let status: string;
    if (this === state.current) status = 'started';
    else if (this.#closed) status = 'closed';
    else if (this.#popen === null) status = 'initial';
    else {
      const code = this.#popen.poll();
      status = code === null ? 'started' : code === 0 ? 'stopped' : `stopped[${signalName(code) ?? code}]`;
    }
    return `<${this.constructor.name}(${this.#name}, ${status}${this.#daemon ? ' daemon' : ''})>`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  #checkClosed(): void {
    if (this.#closed) throw new ProcessError(CLOSED_MESSAGE);
  }

  #started(what: string): Popen {
    this.#checkClosed();
    if (this.#popen === null) throw new ProcessError(`cannot ${what} a process that has not been started`);
    return this.#popen;
  }

  static {
    processInternals = {
      // `this` (an arrow's: the class), not `Process`: a class that names itself in its body is built as `class _Process`.
      create: (cls, init) => {
        const p: Process = Reflect.construct(this, [INTERNAL], cls);
        processInternals.init(p, init);
        return p;
      },
      init(p, init) {
        p.#name = init.name;
        p.#identity = init.identity;
        p.#daemon = init.daemon;
        p.#authkey = init.authkey;
        p.#ownPid = init.pid;
      },
      setTarget(p, target, args, kwargs) {
        p.#target = target as Target | null;
        p.#args = args;
        p.#kwargs = kwargs;
      },
    };
  }
}

/** Drops children known to have ended (Python's `_cleanup`). */
function reapChildren(): void {
  for (const p of state.children) if (p.exitCode !== null) childEnded(p);
}

/** The file whose code called `new Process(...)`: the first stack frame outside this package (and `skip`). */
export function callerFile(skip?: string): string | null {
  const saved = Error.prepareStackTrace;
  try {
    Error.prepareStackTrace = (_err, frames) => frames;
    const frames = new Error().stack as unknown as NodeJS.CallSite[];
    for (const f of frames) {
      const file = f.getFileName();
      if (file && file !== __filename && file !== skip && !file.startsWith('node:')) return file.startsWith('file:') ? require('node:url').fileURLToPath(file) : file;
    }
    return null;
  } finally {
    Error.prepareStackTrace = saved;
  }
}

/** Python's `current_process()`: the Process object of the calling process. */
export function currentProcess(): Process {
  state.current ??= processInternals.create(Process, {
    name: state.name,
    identity: state.identity,
    daemon: state.daemon,
    authkey: authkey(),
    pid: process.pid,
  });
  return state.current as Process; // state.ts names it by shape only; Processes are all it holds
}

/** Python's `active_children()`: the children still running (ended ones are reaped). */
export function activeChildren(): Process[] {
  reapChildren();
  return [...state.children] as Process[];
}
