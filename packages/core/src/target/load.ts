import type * as NodeModule from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { IMPORT_SHIM, PROVIDED } from './ship';
import type { TargetSpec } from './spec';

// node:module costs ~0.4 ms to load, and only a child loading its target needs it.
const nodeModule = (): typeof NodeModule => require('node:module') as typeof NodeModule;

/** Failures to find the target: the child prints the message and exits with code 1. */
export class TargetLoadError extends Error {}
TargetLoadError.prototype.name = 'TargetLoadError';

/** The child's side of describe.ts: imports or compiles the target and returns it. */
export async function loadTarget(spec: TargetSpec): Promise<Function | null> {
  switch (spec.kind) {
    case 'none':
      return null;
    case 'export':
      return pick(await importModule(spec.url, spec.format, spec.what), spec.name, spec.url, spec.what);
    case 'specifier': {
      const url = resolveSpecifier(spec.specifier, spec.base);
      return pick(await importModule(url, 'esm', `module ${spec.specifier}`), spec.name, spec.specifier, `module ${spec.specifier}`);
    }
    case 'source':
      return compile(spec);
  }
}

/** ES modules a spare imported while it waited: a start takes the namespace as it is (an import() of it costs ~0.2 ms). */
const imported = new Map<string, object>();

/** A spare's import of a module its starts will take targets from. */
export async function importAhead(url: string): Promise<void> {
  imported.set(url, await import(url));
}

async function importModule(url: string, format: 'esm' | 'cjs', what: string): Promise<any> {
  try {
    if (format === 'cjs') return { default: require(fileURLToPath(url)), __cjs: true };
    return imported.get(url) ?? (await import(url));
  } catch (err: any) {
    if ((err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && String(err.message).includes(fileName(url))) {
      throw new TargetLoadError(`cannot find the ${what}: ${fileName(url)} does not exist`);
    }
    throw err;
  }
}

function pick(ns: any, name: string, where: string, what: string): Function {
  const value = ns.__cjs ? (name === '' ? ns.default : name === 'default' ? (ns.default?.default ?? ns.default) : ns.default?.[name]) : ns[name];
  if (typeof value !== 'function') {
    const has = Object.keys(ns.__cjs ? (ns.default ?? {}) : ns).filter((k) => k !== '__cjs');
    throw new TargetLoadError(
      value === undefined
        ? `the ${what} has no export '${name}' (${fileName(where)} exports: ${has.length ? has.join(', ') : 'nothing'})`
        : `export '${name}' of the ${what} is not a function`,
    );
  }
  return value;
}

function resolveSpecifier(specifier: string, base: string | null): string {
  try {
    const { createRequire, isBuiltin } = nodeModule();
    const req = createRequire(base ?? pathToFileURL(process.cwd() + '/').href);
    const resolved = req.resolve(specifier);
    return isBuiltin(resolved) ? resolved : pathToFileURL(resolved).href;
  } catch {
    return specifier; // let import() resolve it, or fail with its own message
  }
}

function compile(spec: Extract<TargetSpec, { kind: 'source' }>): Function {
  const file = spec.url?.startsWith('file:') ? fileURLToPath(spec.url) : null;
  const req = nodeModule().createRequire(file ?? process.cwd() + '/');
  const importShim = (specifier: string) =>
    import(spec.url && (specifier.startsWith('./') || specifier.startsWith('../')) ? new URL(specifier, spec.url).href : specifier);
  const body = spec.member ? `return ({${spec.source}})[${JSON.stringify(spec.member)}];` : `return (${spec.source});`;
  const make = new Function(...PROVIDED, IMPORT_SHIM, body);
  const setName = (fn: Function, value: string) => Object.defineProperty(fn, 'name', { value, configurable: true });
  return make(req, file, file && dirname(file), setName, importShim);
}

function fileName(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url;
}
