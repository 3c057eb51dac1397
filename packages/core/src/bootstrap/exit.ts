/**
 * How a child ends once its 'exit' listeners have run: at once, as a Python child ends with
 * `os._exit()`. Node's own teardown after the listeners (V8's platform threads, libuv's
 * threadpool, destructors) adds ~1 ms to every start + join and can hang for good
 * (nodejs/node#54918); the kernel frees all of it anyway. `process.exit()` calls
 * `process.reallyExit()` after the listeners, whoever calls it (our bootstrap or the target).
 */
export function endAtOnce(): void {
  if (nodeWritesAtExit()) return;
  const proc = process as NodeJS.Process & { reallyExit(code: unknown): never };
  const nodeExit = proc.reallyExit;
  proc.reallyExit = (code) => {
    const exitNow = nativeExit();
    if (!exitNow) return nodeExit.call(proc, code);
    try {
      // What Node's compile cache learned this run, which Node would write in its teardown.
      (require('node:module') as { flushCompileCache?: () => void }).flushCompileCache?.();
    } catch {
      // A cache that cannot be written is compiled again next time; the exit goes on.
    }
    // As Node takes it: an int32, of which the kernel keeps the low 8 bits.
    return exitNow((Number(code) | 0) & 0xff);
  };
}

/** Loads the addon ahead of the exit (a spare does while it waits). */
export function nativeExit(): ((code: number) => never) | null {
  try {
    const native = require('@multiproc/native') as typeof import('@multiproc/native');
    return native.loadError() ? null : native.exitNow;
  } catch {
    return null;
  }
}

/** V8 coverage, profiles and trace events are written in Node's teardown, and so is the compile cache of Node 22.1–22.9. */
function nodeWritesAtExit(): boolean {
  if (process.env.NODE_V8_COVERAGE) return true;
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (flags.some((f) => /^--(cpu-prof|heap-prof|prof|trace-event)/.test(f))) return true;
  const mod = require('node:module') as { enableCompileCache?: unknown; flushCompileCache?: unknown };
  return mod.enableCompileCache !== undefined && mod.flushCompileCache === undefined;
}
