import { realpathSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { isAbsolute, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe } from '../timeout';
import { CHILD_ENTRY } from './spawn';

/**
 * What a 'forkserver' spare imports while it waits (Python's `set_forkserver_preload`, whose
 * default is `['__main__']`): the modules earlier children imported their targets from (the main
 * module, for a function it exports), then the modules the program named.
 */

/** The file URL of this program's main module, or null when there is none a child could import. */
export function mainModuleUrl(): string | null {
  if ((process as any)._eval != null) return null; // node -e / -p
  const entry = process.argv[1];
  if (!entry || entry === '-') return null;
  let file: string;
  try {
    // The CommonJS main as Node resolved it; an ES main is resolved the same way (Module._findPath).
    file = require.main?.filename ?? require.resolve(resolve(entry));
  } catch {
    return null;
  }
  if (!process.execArgv.includes('--preserve-symlinks-main')) file = real(file);
  // In a child the main is our bootstrap; a main under node_modules is a tool's (a test runner,
  // a process manager) that would run its own program in the spare, not the user's.
  if (file === real(CHILD_ENTRY) || file.split(sep).includes('node_modules')) return null;
  return pathToFileURL(file).href;
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
