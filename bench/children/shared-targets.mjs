// Targets of the shared-memory workloads, run in the child by module reference.
// Loaded here so that shared_pass_ms's baseline child (no arg) loads the package and its addon
// too (~15 ms, once per process): the difference is then the transfer itself, as in Python,
// whose children both import sharedctypes with the main module.
import '@multiproc/shared';

/** The loop both sides of shared_sum_ratio run: one function, so both get the same machine code. */
export function sum(a) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

/**
 * shared_sum_ratio: sum the received shared array and a local Float64Array of the same size
 * (same contents), `reps` times each, alternating; send local time / shared time per rep.
 * A warm-up pass over each first: the child's first touch of a mapping faults its pages in.
 */
export async function sumRatio(shared, conn, reps) {
  const local = new Float64Array(shared.length);
  local.set(shared);
  const expected = sum(local);
  if (sum(shared) !== expected) throw new Error('shared and local sums differ');
  const ratios = [];
  for (let r = 0; r < reps; r++) {
    let t0 = performance.now();
    const a = sum(shared);
    const tShared = performance.now() - t0;
    t0 = performance.now();
    const b = sum(local);
    const tLocal = performance.now() - t0;
    if (a !== expected || b !== expected) throw new Error('sum changed');
    ratios.push(tLocal / tShared);
  }
  await conn.send(ratios);
}

/** shared_pass_ms: a target or task that only receives its argument. */
export function noop() {}
