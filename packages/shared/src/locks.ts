import { ProcessError } from '@multiproc/errors';

/**
 * What a `Value`/`SharedArray` needs of its lock: the `Lock`/`RLock` of @multiproc/sync, which
 * this package must not import (sync depends on shared). Sync registers itself here when it
 * loads; a value made before that loads it on demand.
 */
export interface SynchronizedLock {
  acquire(block?: boolean | { block?: boolean; timeout?: number | null; signal?: AbortSignal }, timeout?: number | null): Promise<boolean>;
  acquireSync(block?: boolean, timeout?: number | null): boolean;
  release(): void;
  hold(options?: { block?: boolean; timeout?: number | null; signal?: AbortSignal }): Promise<Disposable>;
}

export interface LockSupport {
  /** A new RLock: a value's default lock, as Python's. */
  makeLock(): SynchronizedLock;
  /** Whether `value` is a Lock or RLock a value may take as its `lock`. */
  isLock(value: unknown): value is SynchronizedLock;
}

// One slot per OS process, shared by every copy of this package (as core's registries).
const slot: { support: LockSupport | null } = ((globalThis as any)[Symbol.for('multiproc.shared.locks')] ??= { support: null });

export function registerLockSupport(support: LockSupport): void {
  slot.support = support;
}

export function registeredLockSupport(): LockSupport | null {
  return slot.support;
}

/** The registered support, loading @multiproc/sync (an optional peer dependency) when nothing registered yet. */
export function lockSupport(where: string): LockSupport {
  if (slot.support) return slot.support;
  try {
    require('@multiproc/sync');
  } catch (err) {
    throw new ProcessError(`${where}: a value with a lock needs @multiproc/sync, which cannot be loaded (${(err as Error).message}); install it, or pass { lock: false }`, {
      cause: err,
    });
  }
  if (!slot.support) throw new ProcessError(`${where}: @multiproc/sync loaded but registered no lock support`);
  return slot.support;
}
