// A RemotePool's task is a module's export, named so a worker on another machine can find it in
// its own copy of the module: the caller sends the file's content hash with it, and a worker
// whose copy differs refuses to run it (stale code never runs silently).
import { describeTarget, type TargetSpec } from '@multiproc/core/internal';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskModule } from './pool-protocol';

const hashes = new Map<string, { mtimeMs: number; size: number; hash: string }>();

/** sha256 of a file's content, hex (computed again only when the file changes). */
export function fileHash(path: string): string {
  const st = statSync(path);
  const known = hashes.get(path);
  if (known && known.mtimeMs === st.mtimeMs && known.size === st.size) return known.hash;
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashes.set(path, { mtimeMs: st.mtimeMs, size: st.size, hash });
  return hash;
}

/** The module and export behind a task (already checked with checkTarget), with its hash. */
export function taskModule(task: unknown, callerFile: string | null, what: string): TaskModule {
  const spec: TargetSpec = describeTarget(task, callerFile);
  let path: string;
  let name: string;
  if (spec.kind === 'export' && spec.url.startsWith('file:')) {
    path = fileURLToPath(spec.url);
    name = spec.name;
  } else if (spec.kind === 'specifier') {
    path = createRequire(spec.base ?? resolve('noop.js')).resolve(spec.specifier);
    name = spec.name;
  } else {
    throw new TypeError(
      `${what}: a RemotePool runs tasks by module and export (each worker imports its own copy of the module); ` +
        'this function is not exported from a module file. Export it from the module the workers serve and pass it, or pass { module, export }',
    );
  }
  try {
    return { path, export: name, hash: fileHash(path) };
  } catch (err) {
    throw new TypeError(`${what}: cannot read the task module ${path} to hash it: ${(err as Error).message}`, { cause: err });
  }
}

export function shortHash(hash: string): string {
  return `sha256:${hash.slice(0, 12)}`;
}

export function moduleName(path: string): string {
  return basename(path);
}
