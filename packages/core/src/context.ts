import { BUILTIN_CLASS, Process, START_METHOD } from './process';
import { backendFor, getStartMethod } from './start-methods';
import { describe } from './timeout';

/**
 * Python's context objects: the same constructors, bound to one start method. Other packages add
 * theirs (Pipe, Queue, …) with `registerContextFactory`, so `getContext('spawn').Queue` exists
 * once `@multiproc/queue` is loaded.
 */
export class Context {
  readonly Process: typeof Process;

  constructor(readonly startMethod: string) {
    const name = `${startMethod[0].toUpperCase()}${startMethod.slice(1)}Process`;
    // A named subclass, so String(p) reads <SpawnProcess(...)> as in Python.
    this.Process = {
      [name]: class extends Process {
        static override [START_METHOD] = startMethod;
        static override [BUILTIN_CLASS] = true;
      },
    }[name];
  }

  getStartMethod(): string {
    return this.startMethod;
  }
}

const contexts = new Map<string, Context>();

/** Python's `get_context(method)`; with no method, the context of the start method in force. */
export function getContext(method?: string | null): Context {
  if (method !== undefined && method !== null && typeof method !== 'string') {
    throw new TypeError(`getContext(method): method must be a start method name, got ${describe(method)}`);
  }
  const m = method ?? (getStartMethod() as string);
  backendFor(m);
  let ctx = contexts.get(m);
  if (!ctx) contexts.set(m, (ctx = new Context(m)));
  return ctx;
}

/**
 * Lets a package give every context a member bound to it, e.g. `Queue`; the package declares
 * its type with `declare module '@multiproc/core' { interface Context { Queue: … } }`.
 */
export function registerContextFactory(name: string, make: (ctx: Context) => unknown): void {
  Object.defineProperty(Context.prototype, name, {
    configurable: true,
    get(this: Context) {
      const value = make(this);
      Object.defineProperty(this, name, { value, configurable: true });
      return value;
    },
  });
}
