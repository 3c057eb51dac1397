import { loadTarget, logDebug, onTraceChange, traceNow, traceRecord } from '@multiproc/core/internal';
import type { Connection } from '@multiproc/pipe';
import { pack } from './pack';
import type { FromWorker, ToWorker, WorkerInit } from './protocol';

/** Whether a trace is under way: the one test a chunk pays when it is not. */
let tracing = false;
onTraceChange((on) => (tracing = on));

/**
 * A pool worker's life (Python's `multiprocessing.pool.worker`): run the initializer, then run
 * chunks in the order they come, one at a time, until the pool closes the pipe or the worker
 * has run `maxtasks` chunks. The target of each worker Process (through dist/internal.mjs).
 */
export async function poolWorker(conn: Connection, init: WorkerInit): Promise<void> {
  /** Task functions by id; one that failed to load keeps its error, which each of its chunks gets. */
  const fns = new Map<number, Function | { error: unknown }>();
  if (init.initializer) {
    try {
      const initializer = await loadTarget(init.initializer);
      await initializer?.(...init.initargs);
    } catch (err) {
      // The pool fails its tasks with this; the Process reports it on stderr and exits with 1.
      await conn.send(['initFailed', err, (err as Error)?.name ?? 'Error'] satisfies FromWorker).catch(() => {});
      throw err;
    }
  }
  await conn.send(['ready'] satisfies FromWorker);
  let done = 0;
  for await (const msg of conn as AsyncIterable<ToWorker>) {
    if (msg[0] === 'fn') {
      try {
        fns.set(msg[1], (await loadTarget(msg[2]))!);
      } catch (error) {
        fns.set(msg[1], { error });
      }
      continue;
    }
    const [, chunk, fnId, star, items, kwargs] = msg;
    const fn = fns.get(fnId)!;
    // Filled in order (a dense array: v8 writes a holey one element by element, keys and all).
    const results: unknown[] = [];
    const started = performance.now();
    let ms = 0;
    let reply: FromWorker;
    try {
      if (typeof fn !== 'function') throw fn.error;
      for (let i = 0; i < items.length; i++) {
        let r = star ? (kwargs === undefined ? fn(...(items[i] as unknown[])) : fn(...(items[i] as unknown[]), kwargs)) : fn(items[i]);
        if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') r = await r;
        results.push(r);
      }
      reply = ['ok', chunk, pack(results), (ms = performance.now() - started)];
    } catch (err) {
      reply = ['err', chunk, err, (err as Error)?.name ?? 'Error', (ms = performance.now() - started)];
    }
    if (tracing) traceRecord({ ph: 'X', name: `chunk ${chunk}`, cat: 'pool', ts: traceNow() - Math.round(ms * 1000), dur: Math.max(1, Math.round(ms * 1000)), args: { chunk, tasks: items.length, ok: reply[0] === 'ok' } });
    try {
      await conn.send(reply);
    } catch (err) {
      // A result that cannot be cloned fails its chunk, not the worker.
      await conn.send(['err', chunk, err, (err as Error).name, ms]);
    }
    // After a long chunk, let the result go out before starting the next one (sends are
    // written at the end of a tick, and the next chunk would hold the tick).
    if (ms > 1) await new Promise(setImmediate);
    done++;
    if (init.maxtasks !== null && done >= init.maxtasks) break;
  }
  logDebug('worker exiting after %d tasks', done);
  conn.close();
}
