/**
 * Core's start part (start.ts: popen/, target/, bootstrap/) is its own file, dist/start.js,
 * compiled at its first use: V8 pre-parses every function of a file it loads, ~0.1 M instructions
 * a KB, and a program that only imports core never starts a process. The part takes what it uses
 * of this bundle's modules (start-modules.ts) instead of holding copies, so there is still one
 * copy of every module's state; scripts/start-part.mjs builds it.
 */
type Modules = Record<string, object>;

let modules: (() => Modules) | null = null;
let part: unknown = null;

/** index.ts hands over, at load, how to make what the part takes from this bundle. */
export function provideStartModules(make: () => Modules): void {
  modules = make;
}

/** The exports of start.ts (T: those the caller uses), loaded at the first call. */
export function startPart<T>(): T {
  if (part === null) {
    // From this bundle's directory: the umbrella, which holds core, has its own copy next to it.
    const { join } = require('node:path') as typeof import('node:path');
    part = (require(join(__dirname, 'start.js')) as (m: Modules) => unknown)(modules!());
  }
  return part as T;
}
