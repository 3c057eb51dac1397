// Shared-memory workloads: shared_sum_ratio, shared_pass_ms, shm_byte_rmw_ns — ours and
// Python's (python/mp_bench_more.py). A RawArray travels as the same memory, not a copy: a
// worker sums it as fast as a local array, and passing it costs the same whatever its size.
import { reps } from '../lib/stats.mjs';

const targets = new URL('../children/shared-targets.mjs', import.meta.url);
const ref = (name) => ({ module: targets, export: name });
const MB = 2 ** 20;
const DOUBLES = 8;

/** Imported from its own package, as a user who installs only @multiproc/shared would. */
async function shared() {
  return import('@multiproc/shared');
}

/**
 * Paired samples of `withArg() - without()`, ms: run alternately so drift (other load, the
 * heap) hits both the same. One sample per pair, after `warmup` untimed pairs.
 */
async function pairedDiffs(pairs, warmup, withArg, without) {
  const out = [];
  for (let i = 0; i < warmup + pairs; i++) {
    let t0 = performance.now();
    await withArg();
    const a = performance.now() - t0;
    t0 = performance.now();
    await without();
    const b = performance.now() - t0;
    if (i >= warmup) out.push(a - b);
  }
  return out;
}

export default (size) => {
  const { SHARED_SUM_MB, SHARED_SUM_REPS, SHARED_PASS_SIZES_MB, SHARED_PASS_PROCESS_PAIRS, SHARED_PASS_POOL_PAIRS, SHM_RMW_SIZE, SHM_RMW_PASSES, SHM_RMW_REPS } = size;

  const passProcess = (mb) => ({
    metric: `shared_pass_ms[process_${mb}MB]`,
    python: 'shared_pass_ms',
    unit: 'ms',
    better: 'lower',
    target: { absolute: 1 },
    note:
      mb === SHARED_PASS_SIZES_MB[0]
        ? 'start+join of a Process with a RawArray(\'d\') as its arg minus start+join with none, paired runs; Python: the same with multiprocessing.RawArray under spawn'
        : undefined,
    ours: async (mp) => {
      const { RawArray } = await shared();
      const array = RawArray('d', (mb * MB) / DOUBLES).fill(1);
      const startJoin = async (args) => {
        const p = new mp.Process({ target: ref('noop'), args });
        p.start();
        await p.join();
        if (p.exitCode !== 0) throw new Error(`child exited with ${p.exitCode}`);
      };
      return pairedDiffs(SHARED_PASS_PROCESS_PAIRS, 1, () => startJoin([array]), () => startJoin([]));
    },
  });

  const passPool = (mb) => ({
    metric: `shared_pass_ms[pool_${mb}MB]`,
    python: 'shared_pass_ms',
    unit: 'ms',
    better: 'lower',
    target: { absolute: 1 },
    note:
      mb === SHARED_PASS_SIZES_MB[0]
        ? "pool.apply(noop, [array]) minus pool.apply(noop, [0]), paired; Python can't pass a RawArray to a Pool task (only by inheritance): no Python cell"
        : undefined,
    ours: async (mp) => {
      const { RawArray } = await shared();
      const array = RawArray('d', (mb * MB) / DOUBLES).fill(1);
      const pool = new mp.Pool(1);
      try {
        return await pairedDiffs(SHARED_PASS_POOL_PAIRS, 20, () => pool.apply(ref('noop'), [array]), () => pool.apply(ref('noop'), [0]));
      } finally {
        pool.close();
        await pool.join();
      }
    },
  });

  return [
    {
      metric: 'shared_sum_ratio',
      python: 'shared_sum_ratio',
      unit: '×',
      better: 'higher',
      target: { absolute: 0.9 },
      note: `a child sums a ${SHARED_SUM_MB} MB RawArray('d') it received as a Process arg; the value is its time summing a local Float64Array of the same size over its time summing the shared one (1 = as fast as local memory). Python: the same with multiprocessing.RawArray (spawn) against a local array.array('d'), both with \`for x in a: s += x\``,
      ours: async (mp) => {
        const { RawArray } = await shared();
        const array = RawArray('d', (SHARED_SUM_MB * MB) / DOUBLES);
        for (let i = 0; i < array.length; i++) array[i] = i % 1000;
        const [conn, end] = mp.Pipe();
        const p = new mp.Process({ target: ref('sumRatio'), args: [array, end, SHARED_SUM_REPS] });
        p.start();
        const ratios = await conn.recv();
        await p.join();
        conn.close();
        end.close();
        return ratios;
      },
    },
    ...SHARED_PASS_SIZES_MB.map(passProcess),
    ...SHARED_PASS_SIZES_MB.map(passPool),
    {
      metric: 'shm_byte_rmw_ns',
      python: 'shm_byte_rmw_ns',
      unit: 'ns',
      better: 'lower',
      target: { against: 'python', factor: 0.2 },
      note: `buf[i] = (buf[i] + 1) & 255 over a ${SHM_RMW_SIZE / MB} MB SharedMemory, ${SHM_RMW_PASSES} passes, ns per op; Python: shm.buf[i] = (shm.buf[i] + 1) % 256`,
      ours: async () => {
        const { SharedMemory } = await shared();
        const shm = new SharedMemory({ create: true, size: SHM_RMW_SIZE });
        try {
          // One untimed rep first: the JIT compiles the loop (Python's has nothing to warm up).
          const out = await reps(SHM_RMW_REPS + 1, () => {
            const t0 = performance.now();
            for (let p = 0; p < SHM_RMW_PASSES; p++) {
              for (let i = 0; i < SHM_RMW_SIZE; i++) shm.buf[i] = (shm.buf[i] + 1) & 255;
            }
            return ((performance.now() - t0) * 1e6) / (SHM_RMW_SIZE * SHM_RMW_PASSES);
          });
          if (shm.buf[0] !== (SHM_RMW_PASSES * (SHM_RMW_REPS + 1)) % 256) throw new Error('lost an increment');
          return out.slice(1);
        } finally {
          shm.close();
          shm.unlink();
        }
      },
    },
  ];
};
