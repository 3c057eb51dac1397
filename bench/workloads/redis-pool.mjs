// RemotePool workloads (@multiproc/redis): the pool rows of workloads/pool.mjs, their own bodies,
// with the workers behind a real redis-server of their own (a Unix socket on this machine) —
// tiny-task map (default chunks and chunksize 1) and the CPU speedup — with two worker commands
// of one process each ("2 workers", as two machines would run them). The local Pool runs the same
// workload in the same process as a peer, so the ratio the target asks for is taken in one run.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { redisUnavailable, startRedis } from '../lib/redis-server.mjs';
import { cpuSpeedup, taskFile, tinyMap, warmUp, withOurPool } from './pool.mjs';

const AUTHKEY = 'bench-key';
const WORKERS = 2;

/** Resolves with the child once `line` shows on its stdout; rejects if it exits first. */
function started(child, line, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (line.test(out)) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code} before it was ready: ${out.slice(-300)}`)));
  });
}

/** A redis-server and WORKERS worker commands for the time of `fn(pool)`; all gone afterwards. */
async function withRemotePool(size, fn) {
  let redisPkg;
  try {
    redisPkg = await import('@multiproc/redis');
  } catch (err) {
    throw new Error(`@multiproc/redis is not built: ${err.message.split('\n')[0]}`);
  }
  const unavailable = redisUnavailable();
  if (unavailable) throw new Error(unavailable);
  const server = await startRedis();
  const workers = [];
  try {
    const { url } = server;
    const bin = createRequire(import.meta.url).resolve('@multiproc/redis/package.json').replace(/package\.json$/, 'bin/multiproc-redis-worker.cjs');
    const env = { ...process.env, MULTIPROC_REDIS_AUTHKEY: AUTHKEY };
    await Promise.all(
      Array.from({ length: WORKERS }, () => {
        const w = spawn(process.execPath, [bin, '--redis', url, '--module', taskFile, '--processes', '1'], { stdio: ['ignore', 'pipe', 'inherit'], env });
        workers.push(w);
        return started(w, /^ready: /m, 'multiproc-redis-worker');
      }),
    );
    const pool = new redisPkg.RemotePool({ location: redisPkg.redis(url, { authkey: AUTHKEY }), processes: size.POOL_PROCESSES });
    try {
      await warmUp(pool, size);
      return await fn(pool);
    } finally {
      pool.terminate();
      await pool.join();
    }
  } finally {
    for (const w of workers) {
      if (w.exitCode === null) {
        w.kill('SIGTERM');
        await new Promise((r) => w.once('exit', r));
      }
    }
    await server.stop();
  }
}

const NOTE = `RemotePool: ${WORKERS} worker commands × 1 process, a redis-server on a Unix socket, all on this machine; peer 'local Pool': the same workload on the local Pool (POOL_PROCESSES = 2)`;

export default (size) =>
  [
    ['redis_pool_map_tiny_tasks_per_s', 'pool_map_tiny_tasks_per_s', tinyMap(size.POOL_MAP_COUNT, size.POOL_MAP_REPS, undefined), { against: 'local Pool', factor: 0.5 }],
    ['redis_pool_map_tiny_tasks_per_s[chunksize=1]', 'pool_map_tiny_tasks_per_s[chunksize=1]', tinyMap(size.POOL_MAP_C1_COUNT, size.POOL_MAP_C1_REPS, 1), undefined],
    ['redis_pool_cpu_speedup', 'pool_cpu_speedup', cpuSpeedup(size), undefined],
  ].map(([metric, pythonMetric, run, target]) => ({
    metric,
    python: 'pool',
    pythonMetric,
    unit: metric.includes('cpu') ? '×' : 'tasks/s',
    better: 'higher',
    target,
    note: NOTE,
    ours: () => withRemotePool(size, run),
    peers: { 'local Pool': (mp) => withOurPool(mp, size, run) },
  }));
