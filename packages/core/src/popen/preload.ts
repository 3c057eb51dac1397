import { realpathSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe } from '../timeout';
import { CHILD_ENTRY } from './spawn';

/**
 * What a 'forkserver' spare imports while it waits (Python's `set_forkserver_preload`, whose
 * default is `['__main__']`): the modules earlier children imported their targets from (the main
 * module, for a function it exports), then the modules the program named.
 */

/**
 * The program's main module as a URL, or null (`node -e`, a child, whose main is our bootstrap):
 * what preload's package names resolve from, and what a warning calls "the main module".
 */
export function mainModuleUrl(): string | null {
  const entry = process.argv[1];
  if (!entry) return null;
  const file = real(resolve(entry));
  return file === real(CHILD_ENTRY) ? null : pathToFileURL(file).href;
}

/**
 * `setForkserverOptions({ preload })`: specifiers, paths and URLs resolved as the parent would
 * import them (relative paths from the working directory, package names from the main module),
 * to the URLs a spare imports.
 */
export function resolvePreload(preload: unknown): string[] {
  if (!Array.isArray(preload)) {
    throw new TypeError(`setForkserverOptions(options): preload must be an array of module specifiers, paths or URLs, got ${describe(preload)}`);
  }
  return preload.map((m, i) => {
    if (m instanceof URL) return m.href;
    if (typeof m !== 'string' || m === '') {
      throw new TypeError(`setForkserverOptions(options): preload[${i}] must be a module specifier, path or URL, got ${describe(m)}`);
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(m) && !isBuiltin(m)) return m; // file:, data:, … (not a Windows drive: POSIX only)
    const path = isAbsolute(m) || m.startsWith('./') || m.startsWith('../') || m === '.' || m === '..';
    try {
      const found = createRequire(mainModuleUrl() ?? pathToFileURL(process.cwd() + '/').href).resolve(path ? resolve(m) : m);
      return isBuiltin(found) ? found : pathToFileURL(found).href;
    } catch (err: any) {
      if (path) throw new TypeError(`setForkserverOptions(options): preload[${i}]: cannot find ${resolve(m)}`);
      // A package whose exports only an ES `import` satisfies: the spare's import() resolves it from here.
      if (err?.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return m;
      throw new TypeError(`setForkserverOptions(options): preload[${i}]: cannot find the module '${m}' (${err?.code ?? err})`);
    }
  });
}

function real(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
