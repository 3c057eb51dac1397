/**
 * What a target may be, and the check made when one is given (a Process's, a Pool's task or
 * initializer). Not in target/, which is core's start part (see start-part.ts): constructing a
 * Process or a Pool does not load it.
 */
import { describe as describeValue } from './timeout';

/** A `{ module, export }` reference to code the child imports. */
export interface ModuleReference {
  module: string | URL;
  export?: string;
}

export type Target = ((...args: any[]) => unknown) | ModuleReference;

/**
 * Checks a target when it is given (a Process's, a Pool's task or initializer); the expensive
 * work waits for its use. `what` names it in the errors; null and undefined pass when `optional`.
 */
export function checkTarget(target: unknown, what = 'Process: target', optional = true): void {
  if (typeof target === 'function' || (optional && (target === undefined || target === null))) return;
  if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
    const { module, export: name, ...rest } = target as ModuleReference;
    const unknown = Object.keys(rest);
    if (unknown.length) {
      throw new TypeError(`${what} has unknown key ${unknown.map((k) => `'${k}'`).join(', ')}; a module reference is { module, export? }`);
    }
    if (!(typeof module === 'string' && module !== '') && !(module instanceof URL)) {
      throw new TypeError(`${what}.module must be a module path, package name or URL, got ${describeValue(module)}`);
    }
    if (name !== undefined && (typeof name !== 'string' || name === '')) {
      throw new TypeError(`${what}.export must be the name of an export (default: 'default'), got ${describeValue(name)}`);
    }
    return;
  }
  throw new TypeError(`${what} must be a function or a module reference { module, export? }, got ${describeValue(target)}`);
}
