// Pool workloads: pool_map_tiny_tasks_per_s (default chunksize and chunksize=1) and
// pool_cpu_speedup — ours, Python's, and the worker pools Node users pick today. The bodies of our
// rows take the pool, so workloads/redis-pool.mjs measures the same thing on a RemotePool.
import { fileURLToPath } from 'node:url';
import { cpuTask } from '../children/pool-task.mjs';
import { needs } from './pipe.mjs';

export const taskFile = fileURLToPath(new URL('../children/pool-task.mjs', import.meta.url));
export const taskRef = (name) => ({ module: new URL('../children/pool-task.mjs', import.meta.url), export: name });
const workerpoolScript = fileURLToPath(new URL('../children/workerpool-worker.cjs', import.meta.url));

/** The peers, behind one interface: run(name, arg) → Promise, close(). They have no chunking. */
const PEERS = {
  piscina: async (n) => {
    const { Piscina } = await import('piscina');
    const pool = new Piscina({ filename: taskFile, minThreads: n, maxThreads: n });
    return { run: (name, x) => pool.run(x, { name }), close: () => pool.destroy() };
  },
  tinypool: async (n) => {
    const { Tinypool } = await import('tinypool');
    const pool = new Tinypool({ filename: taskFile, minThreads: n, maxThreads: n });
    return { run: (name, x) => pool.run(x, { name }), close: () => pool.destroy() };
  },
  'workerpool (threads)': async (n) => {
    const workerpool = (await import('workerpool')).default;
    const pool = workerpool.pool(workerpoolScript, { minWorkers: n, maxWorkers: n, workerType: 'thread' });
    return { run: (name, x) => pool.exec(name, [x]), close: () => pool.terminate() };
  },
  'workerpool (processes)': async (n) => {
    const workerpool = (await import('workerpool')).default;
    const pool = workerpool.pool(workerpoolScript, { minWorkers: n, maxWorkers: n, workerType: 'process' });
    return { run: (name, x) => pool.exec(name, [x]), close: () => pool.terminate() };
  },
};

async function withPeer(label, size, fn) {
  const pool = await PEERS[label](size.POOL_PROCESSES);
  try {
    await Promise.all(Array.from({ length: size.POOL_WARM_COUNT }, (_, i) => pool.run('identity', i)));
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

/** The warm-up before a row's timed runs, the same on every pool of ours. */
export const warmUp = (pool, size) => pool.map(taskRef('identity'), range(size.POOL_WARM_COUNT), 1);

/** A local Pool, warmed up, for the time of `fn(pool)`. */
export async function withOurPool(mp, size, fn) {
  const pool = new mp.Pool(size.POOL_PROCESSES);
  try {
    await warmUp(pool, size);
    return await fn(pool);
  } finally {
    pool.close();
    await pool.join();
  }
}

/**
 * Python's range(n), as an array built the fast way: `Array.from({ length: n }, f)` takes ~6 ms
 * for 200,000 items here, which would be timed as if it were the pool's.
 */
export function range(n) {
  const a = new Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
const perSecond = (n, ms) => n / (ms / 1000);

/** The peers repeat a workload fewer times: at their speed the full count would take minutes. */
const peerReps = (reps) => Math.min(reps, 3);

function tinyTasks(size, count, reps, chunksize) {
  const peers = Object.fromEntries(
    Object.keys(PEERS).map((label) => [
      label,
      () =>
        withPeer(label, size, async (pool) => {
          const out = [];
          for (let r = 0; r < peerReps(reps); r++) {
            const t0 = performance.now();
            const res = await Promise.all(range(count).map((i) => pool.run('identity', i)));
            out.push(perSecond(count, performance.now() - t0));
            if (res[count - 1] !== count - 1) throw new Error('wrong result');
          }
          return out;
        }),
    ]),
  );
  return { ours: (mp) => needs(mp, 'Pool') ?? withOurPool(mp, size, tinyMap(count, reps, chunksize)), peers };
}

/** Our side of the tiny-task rows: `reps` maps of range(count) on `pool`, tasks per second each. */
export const tinyMap = (count, reps, chunksize) => async (pool) => {
  const out = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const res = await pool.map(taskRef('identity'), range(count), chunksize);
    out.push(perSecond(count, performance.now() - t0));
    if (res.length !== count || res[count - 1] !== count - 1) throw new Error('wrong result');
  }
  return out;
};

/** Our side of pool_cpu_speedup: the CPU_CALLS tasks as one map on `pool`. */
export const cpuSpeedup = (size) => (pool) => speedups(size, () => pool.map(taskRef('cpuTask'), Array(size.CPU_CALLS).fill(size.CPU_N_JS)));

/** serial_ms / parallel_ms per repetition, as mp_bench.py's pool_cpu_speedup. */
async function speedups(size, runParallel) {
  const out = [];
  for (let r = 0; r < size.CPU_REPS; r++) {
    let t0 = performance.now();
    for (let i = 0; i < size.CPU_CALLS; i++) cpuTask(size.CPU_N_JS);
    const serial = performance.now() - t0;
    t0 = performance.now();
    await runParallel();
    out.push(serial / (performance.now() - t0));
  }
  return out;
}

export default (size) => [
  {
    metric: 'pool_map_tiny_tasks_per_s',
    python: 'pool',
    unit: 'tasks/s',
    better: 'higher',
    target: { against: 'python', factor: 2, aheadOfPeers: true },
    ...tinyTasks(size, size.POOL_MAP_COUNT, size.POOL_MAP_REPS, undefined),
  },
  {
    metric: 'pool_map_tiny_tasks_per_s[chunksize=1]',
    python: 'pool',
    unit: 'tasks/s',
    better: 'higher',
    target: { against: 'python', factor: 2, aheadOfPeers: true },
    ...tinyTasks(size, size.POOL_MAP_C1_COUNT, size.POOL_MAP_C1_REPS, 1),
  },
  {
    metric: 'pool_cpu_speedup',
    python: 'pool',
    unit: '×',
    better: 'higher',
    target: { absolute: 1.9 },
    ours: (mp) => needs(mp, 'Pool') ?? withOurPool(mp, size, cpuSpeedup(size)),
    peers: Object.fromEntries(
      Object.keys(PEERS).map((label) => [
        label,
        () => withPeer(label, size, (pool) => speedups(size, () => Promise.all(Array.from({ length: size.CPU_CALLS }, () => pool.run('cpuTask', size.CPU_N_JS))))),
      ]),
    ),
  },
];
