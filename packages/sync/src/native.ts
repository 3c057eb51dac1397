import { ProcessError } from '@multiproc/errors';

type Native = typeof import('@multiproc/native');
let loaded: Native | null = null;

/**
 * The native addon, loaded at the first object that needs it: importing this package works on
 * every platform, and constructing a lock where the addon cannot load says why.
 */
export function native(): Native {
  if (loaded) return loaded;
  const mod = require('@multiproc/native') as Native;
  const err = mod.loadError();
  if (err) throw new ProcessError(`locks across processes need @multiproc/native, which cannot load here: ${err.message}`, { cause: err });
  return (loaded = mod);
}
