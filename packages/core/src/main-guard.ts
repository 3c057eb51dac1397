import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * Python's `if __name__ == '__main__':` for Node: true only in the module that was run as the
 * program. In a child it is always false, because the child imports the target's module as a
 * library, so the module's main code doesn't start processes again.
 *
 *     if (isMainModule(import.meta)) main();      // ESM
 *     if (isMainModule(module)) main();           // CommonJS
 */
export function isMainModule(meta: { url: string; main?: boolean } | NodeModule): boolean {
  if (meta === null || typeof meta !== 'object') {
    throw new TypeError('isMainModule(meta): pass import.meta (ESM) or module (CommonJS)');
  }
  if ('url' in meta && typeof meta.url === 'string') {
    if (typeof meta.main === 'boolean') return meta.main;
    const entry = process.argv[1];
    if (!entry) return false;
    return meta.url === pathToFileURL(real(entry)).href || meta.url === pathToFileURL(entry).href;
  }
  return require.main === meta;
}

function real(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
