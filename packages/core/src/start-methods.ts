import { ProcessError } from '@multiproc/errors';
import type * as Forkserver from './popen/forkserver';
import type { StartMethodBackend } from './popen/popen';
import type * as Spawn from './popen/spawn';
import { startPart } from './start-part';
import { state } from './state';
import { describe } from './timeout';

/** Each start method's backend (CPython's `_concrete_contexts`), in core's start part (see start-part.ts). */
const BACKENDS = new Map<string, StartMethodBackend>([
  ['spawn', { name: 'spawn', launch: (spec) => startPart<typeof Spawn>().spawnBackend.launch(spec) }],
  ['forkserver', { name: 'forkserver', launch: (spec) => startPart<typeof Forkserver>().forkserverBackend.launch(spec) }],
]);

/** Chooses the default start method of a whole program (the test suites run once per method). */
const START_METHOD_ENV = 'MULTIPROC_START_METHOD';

export function getAllStartMethods(): string[] {
  return [...BACKENDS.keys()];
}

export function backendFor(method: string): StartMethodBackend {
  const backend = BACKENDS.get(method);
  if (!backend) throw new TypeError(`unknown start method ${describe(method)}; the start methods are ${getAllStartMethods().map((m) => `'${m}'`).join(', ')}`);
  return backend;
}

/**
 * The start method in force. Asking fixes it, as in Python: once a process has started (or
 * anyone asked without `allowNone`), `setStartMethod()` needs `force`.
 */
export function getStartMethod(allowNone = false): string | null {
  if (state.startMethod === null && !allowNone) state.startMethod = defaultStartMethod();
  return state.startMethod;
}

/** 'spawn', unless the environment variable MULTIPROC_START_METHOD names another method. */
function defaultStartMethod(): string {
  const method = process.env[START_METHOD_ENV];
  if (method === undefined || method === '') return 'spawn';
  if (!BACKENDS.has(method)) {
    throw new TypeError(`the environment variable ${START_METHOD_ENV} is ${describe(method)}, which is not a start method; the start methods are ${getAllStartMethods().map((m) => `'${m}'`).join(', ')}`);
  }
  return method;
}

export function setStartMethod(method: string | null, force: boolean | { force?: boolean } = false): void {
  const forced = typeof force === 'object' && force !== null ? !!force.force : !!force;
  if (state.startMethod !== null && !forced) {
    throw new ProcessError(
      `the start method is already set ('${state.startMethod}'): setStartMethod() may be called once, before any process starts; ` +
        `pass { force: true } to change it anyway, or use getContext(method) for one part of a program`,
    );
  }
  if (method === null && forced) {
    state.startMethod = null;
    return;
  }
  backendFor(method as string);
  state.startMethod = method;
}
