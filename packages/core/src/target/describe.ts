import { ProcessError } from '@multiproc/errors';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { locate } from './locate';
import { prepareSource } from './ship';
import type { TargetSpec } from './spec';
import type { ModuleReference } from '../target-check';

/**
 * Turns a target into what the child needs to find it. An exported function is imported from its
 * module; any other function is shipped by its source once checked to be self-contained.
 * `callerFile` is the file that made the Process, for relative module paths.
 */
export function describeTarget(target: unknown, callerFile: string | null): TargetSpec {
  if (target === undefined || target === null) return { kind: 'none' };
  if (typeof target === 'function') return describeFunction(target, `The Process target ${label(target)}`);
  const { module, export: name = 'default' } = target as ModuleReference;
  if (module instanceof URL) return { kind: 'export', url: module.href, name, format: 'esm', what: `module ${module.href}` };
  if (module.startsWith('file:')) return { kind: 'export', url: module, name, format: 'esm', what: `module ${module}` };
  if (isAbsolute(module) || module.startsWith('./') || module.startsWith('../')) {
    const base = callerFile ?? resolve('noop.js');
    const file = isAbsolute(module) ? module : resolve(base, '..', module);
    return { kind: 'export', url: pathToFileURL(file).href, name, format: 'esm', what: `module ${file}` };
  }
  return { kind: 'specifier', specifier: module, base: callerFile ? pathToFileURL(callerFile).href : null, name };
}

/** The class of a Process subclass must be importable, as Python pickles instances by class. */
export function describeClass(cls: Function): TargetSpec {
  const found = locate(cls);
  if (found?.exportName != null) {
    return { kind: 'export', url: found.url, name: found.exportName, format: found.format, what: `class ${cls.name}` };
  }
  throw new ProcessError(
    `class ${cls.name || '(anonymous)'} extends Process but is not exported from its module, so the child cannot ` +
      `import it to run its run() method. Export the class (export class ${cls.name || 'MyProcess'} extends Process { … }).`,
  );
}

/** A function's answer does not change: a program starting the same target again asks V8 once (~2 ms). */
const described = new WeakMap<Function, TargetSpec>();

function describeFunction(fn: Function, what: string): TargetSpec {
  let spec = described.get(fn);
  if (!spec) described.set(fn, (spec = locateFunction(fn, what)));
  return spec.kind === 'source' || spec.kind === 'export' ? { ...spec, what } : spec;
}

function locateFunction(fn: Function, what: string): TargetSpec {
  const found = locate(fn);
  if (found?.exportName != null) {
    return { kind: 'export', url: found.url, name: found.exportName, format: found.format, what };
  }
  const { source, member } = prepareSource(fn, what);
  return { kind: 'source', source, member, url: found?.url ?? null, what };
}

function label(fn: Function): string {
  return fn.name ? `function ${fn.name}` : 'function';
}
