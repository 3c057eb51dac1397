// npm run bench [-- --only m1,m2] [--rounds N] [--smoke] [--chart [--chart-out file.svg]]
//
// Runs mp_bench.py's workloads on multiproc, on Python's multiprocessing (the reference script,
// with the same constants) and on Node's own baselines and worker pools, in one run; prints one
// table and writes bench/results/latest.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeChart } from './lib/chart.mjs';
import { pythonUnavailable, runPython } from './lib/python.mjs';
import { summarize } from './lib/stats.mjs';
import { printTable } from './lib/table.mjs';
import pipeWorkloads from './workloads/pipe.mjs';
import poolWorkloads from './workloads/pool.mjs';
import processWorkloads from './workloads/process.mjs';
import queueWorkloads from './workloads/queue.mjs';
import redisPoolWorkloads from './workloads/redis-pool.mjs';
import redisQueueWorkloads from './workloads/redis-queue.mjs';
import sharedWorkloads from './workloads/shared.mjs';
import syncWorkloads from './workloads/sync.mjs';

// mp_bench.py's constants: the same counts and sizes on every side.
const FULL = {
  START_JOIN_WARMUP: 2, START_JOIN_RUNS: 30, FIRST_INSTR_WARMUP: 2, FIRST_INSTR_RUNS: 20,
  TERMINATE_WARMUP: 1, TERMINATE_RUNS: 10,
  PIPE_RT_COUNT: 20_000, PIPE_RT_REPS: 5, PIPE_SMALL_COUNT: 200_000, PIPE_SMALL_REPS: 5,
  PIPE_BYTES_COUNT: 2_000, PIPE_BYTES_SIZE: 2 ** 20, PIPE_BYTES_REPS: 5,
  QUEUE_1TO1_COUNT: 200_000, QUEUE_1TO1_REPS: 5, QUEUE_2TO2_PRODUCERS: 2, QUEUE_2TO2_CONSUMERS: 2,
  QUEUE_2TO2_PER_PRODUCER: 100_000, QUEUE_2TO2_REPS: 5, QUEUE_1TO2_COUNT: 200_000, QUEUE_1TO2_CONSUMERS: 2, QUEUE_1TO2_REPS: 5,
  QUEUE_LARGE_COUNT: 500, QUEUE_LARGE_SIZE: 2 ** 20, QUEUE_LARGE_REPS: 5,
  POOL_PROCESSES: 2, POOL_WARM_COUNT: 200, POOL_MAP_COUNT: 200_000, POOL_MAP_REPS: 15, POOL_MAP_C1_COUNT: 20_000, POOL_MAP_C1_REPS: 9,
  CPU_N: 600_000, CPU_CALLS: 40, CPU_REPS: 5,
  // mp_bench.py sizes cpu_task to ~20 ms per call in CPython; JavaScript runs its loop ~40× faster,
  // so our side uses the n that costs the same ~20 ms per call (the metric is a speedup ratio).
  CPU_N_JS: 36_000_000,
  FANOUT: 16, FANOUT_WARMUP: 1, FANOUT_REPS: 7,
  // Shared memory (python/mp_bench_more.py has the same): sizes in MB of 2**20 bytes.
  SHARED_SUM_MB: 100, SHARED_SUM_REPS: 5, SHARED_PASS_SIZES_MB: [1, 100], SHARED_PASS_PROCESS_PAIRS: 20, SHARED_PASS_POOL_PAIRS: 200,
  SHM_RMW_SIZE: 2 ** 20, SHM_RMW_PASSES: 4, SHM_RMW_REPS: 5,
  SYNC_REPS: 5, SYNC_LOCK_COUNT: 1_000_000, SYNC_CONTENDED_COUNT: 200_000, SYNC_HANDOFF_COUNT: 5_000,
};
// Tiny counts so CI proves the harness still runs (the numbers mean nothing).
const SMOKE = {
  ...FULL,
  START_JOIN_WARMUP: 0, START_JOIN_RUNS: 2, FIRST_INSTR_WARMUP: 0, FIRST_INSTR_RUNS: 2, TERMINATE_WARMUP: 0, TERMINATE_RUNS: 2,
  PIPE_RT_COUNT: 200, PIPE_RT_REPS: 1, PIPE_SMALL_COUNT: 2_000, PIPE_SMALL_REPS: 1, PIPE_BYTES_COUNT: 20, PIPE_BYTES_REPS: 1,
  QUEUE_1TO1_COUNT: 2_000, QUEUE_1TO1_REPS: 1, QUEUE_2TO2_PER_PRODUCER: 1_000, QUEUE_2TO2_REPS: 1, QUEUE_1TO2_COUNT: 2_000, QUEUE_1TO2_REPS: 1, QUEUE_LARGE_COUNT: 5, QUEUE_LARGE_REPS: 1,
  POOL_WARM_COUNT: 10, POOL_MAP_COUNT: 2_000, POOL_MAP_REPS: 1, POOL_MAP_C1_COUNT: 200, POOL_MAP_C1_REPS: 1,
  CPU_N: 10_000, CPU_N_JS: 100_000, CPU_CALLS: 4, CPU_REPS: 1, FANOUT: 4, FANOUT_WARMUP: 0, FANOUT_REPS: 1,
  SHARED_SUM_MB: 1, SHARED_SUM_REPS: 1, SHARED_PASS_SIZES_MB: [1, 2], SHARED_PASS_PROCESS_PAIRS: 1, SHARED_PASS_POOL_PAIRS: 2,
  SHM_RMW_SIZE: 2 ** 16, SHM_RMW_PASSES: 1, SHM_RMW_REPS: 1,
  SYNC_REPS: 1, SYNC_LOCK_COUNT: 1_000, SYNC_CONTENDED_COUNT: 1_000, SYNC_HANDOFF_COUNT: 20,
};

const { values: opts } = parseArgs({
  options: {
    only: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    smoke: { type: 'boolean', default: false },
    chart: { type: 'boolean', default: false },
    'chart-out': { type: 'string', default: new URL('../docs/bench-ratios.svg', import.meta.url).pathname },
    // Internal: measure one workload in this (fresh) process and write its samples to a file.
    workload: { type: 'string' },
    'result-file': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const size = opts.smoke ? SMOKE : FULL;
const rounds = Math.max(1, Number(opts.rounds) || 1);
const only = opts.only?.split(',').map((s) => s.trim());

const all = () => [...processWorkloads(size), ...pipeWorkloads(size), ...queueWorkloads(size), ...redisQueueWorkloads(size), ...poolWorkloads(size), ...redisPoolWorkloads(size), ...sharedWorkloads(size), ...syncWorkloads(size)];
if (opts.help) {
  console.log('usage: npm run bench [-- --only m1,m2] [--rounds N] [--smoke] [--chart [--chart-out file.svg]]\n\nmetrics (for --only):');
  for (const w of all()) console.log(`  ${w.metric}`);
  process.exit(0);
}
let workloads = all();
if (only) workloads = workloads.filter((w) => only.some((o) => w.metric === o || w.metric.startsWith(`${o}[`) || w.python === o));
if (!workloads.length) {
  console.error(`--only ${opts.only}: no such metric. The metrics are:\n  ${all().map((w) => w.metric).join('\n  ')}`);
  process.exit(2);
}

let mp;
let mpError = null;
try {
  mp = await import('multiproc');
} catch (err) {
  mpError = `not built: ${err.message.split('\n')[0]}`;
}

const errorText = (err) => String(err?.message ?? err).split('\n')[0];
const LIMIT_MS = 5 * 60_000;
/** Runs one side of a workload; a failure or a hang becomes an error cell, never a stuck run. */
async function sample(fn) {
  let timer;
  try {
    return await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`gave up after ${LIMIT_MS / 60_000} min`)), LIMIT_MS)))]);
  } catch (err) {
    return { error: errorText(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** One workload once: ours, then (not in smoke mode) its peers, into `acc`. */
async function measure(w, acc) {
  const ours = mpError ? { error: mpError } : await sample(() => w.ours(mp));
  if (Array.isArray(ours)) acc.ours.push(...ours);
  else acc.oursError = ours.error;
  // In smoke mode only the cheap baseline of the first workload runs.
  const peers = Object.entries(w.peers ?? {}).filter(([label]) => !opts.smoke || label === 'node -e ""');
  for (const [label, run] of peers) {
    const s = await sample(() => run(mp));
    if (Array.isArray(s)) (acc.peers[label] ??= []).push(...s);
    else acc.peers[label] = { error: s.error };
  }
}

if (opts.workload) {
  const acc = { ours: [], peers: {} };
  await measure(workloads.find((w) => w.metric === opts.workload), acc);
  writeFileSync(opts['result-file'], JSON.stringify(acc));
  process.exit(0); // whatever a failed side left pending
}

// Each workload runs in a fresh Node process: a heap grown by the workloads before it changes
// how often V8 collects (1 MiB messages at GB/s ran at half speed after 1M small ones), and the
// numbers should not depend on the order of the table.
const scratch = mkdtempSync(join(tmpdir(), 'multiproc-bench-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));
function measureFresh(w) {
  const file = join(scratch, 'result.json');
  const args = [fileURLToPath(import.meta.url), '--workload', w.metric, '--result-file', file, ...(opts.smoke ? ['--smoke'] : [])];
  const { status, signal } = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (status !== 0) return { ours: [], peers: {}, oursError: `the workload's process ended with ${signal ?? `exit code ${status}`}` };
  return JSON.parse(readFileSync(file, 'utf8'));
}

// Samples pooled over rounds, as mp_bench.py pools its rounds.
const pooled = new Map(workloads.map((w) => [w.metric, { ours: [], peers: {} }]));
for (let round = 1; round <= rounds; round++) {
  for (const w of workloads) {
    const acc = pooled.get(w.metric);
    process.stdout.write(`[round ${round}/${rounds}] ${w.metric} …`);
    const t0 = performance.now();
    const got = measureFresh(w);
    acc.ours.push(...got.ours);
    if (got.oursError) acc.oursError = got.oursError;
    for (const [label, s] of Object.entries(got.peers)) {
      if (!Array.isArray(s)) acc.peers[label] = s; // an error: the cell shows it
      else if (Array.isArray((acc.peers[label] ??= []))) acc.peers[label].push(...s); // unless an earlier round failed
    }
    console.log(` ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

// Python: one run of the reference script for every benchmark needed.
let python = new Map();
let pythonError = opts.smoke ? 'skipped in --smoke' : pythonUnavailable();
if (!pythonError) {
  // A workload with no Python counterpart has python: null.
  const benches = [...new Set(workloads.map((w) => w.python).filter(Boolean))];
  console.log(`python3 mp_bench.py --only ${benches.join(',')} --rounds ${rounds} …`);
  try {
    python = runPython(benches, rounds);
  } catch (err) {
    pythonError = errorText(err);
  }
}

const rows = workloads.map((w) => {
  const acc = pooled.get(w.metric);
  const row = {
    metric: w.metric,
    unit: w.unit,
    better: w.better,
    ours: acc.oursError ? { error: acc.oursError } : summarize(acc.ours),
    python: !w.python ? null : pythonError ? { error: pythonError } : python.has(w.pythonMetric ?? w.metric) ? pick(python.get(w.pythonMetric ?? w.metric)) : null,
    note: w.note,
    peers: Object.fromEntries(Object.entries(acc.peers).map(([k, v]) => [k, Array.isArray(v) ? summarize(v) : v])),
  };
  Object.assign(row, judge(w.target, row));
  return row;
});

function pick(m) {
  return { median: m.median, min: m.min, max: m.max, n: m.n };
}

/** Ours against the target: ratio, whether it is met, and a short verdict. */
function judge(target, row) {
  if (!target || !row.ours?.median) return {};
  const lower = row.better === 'lower';
  if (target.absolute !== undefined) {
    const met = lower ? row.ours.median <= target.absolute : row.ours.median >= target.absolute;
    return { met, verdict: `${lower ? '≤' : '≥'} ${target.absolute} ${row.unit}: ${met ? 'met' : 'NOT met'}` };
  }
  const ref = target.against === 'python' ? row.python : row.peers[target.against];
  if (!ref?.median) return { verdict: `vs ${target.against}: no reference` };
  const ratio = row.ours.median / ref.median;
  let met = lower ? ratio <= target.factor : ratio >= target.factor;
  let extra = '';
  if (target.aheadOfPeers) {
    const behind = Object.entries(row.peers).filter(([, s]) => s?.median && s.median >= row.ours.median);
    if (behind.length) {
      met = false;
      extra = `, behind ${behind.map(([k]) => k).join(', ')}`;
    }
  }
  return {
    ratio,
    factor: target.factor,
    against: target.against,
    met,
    verdict: `${ratio.toFixed(2)}× ${target.against} (${lower ? '≤' : '≥'}${target.factor})${extra}: ${met ? 'met' : 'NOT met'}`,
  };
}

printTable(rows);
// Node 20 reads and parses this CA bundle at every process start (Node >= 22 when TLS first
// needs it): each Node process here then boots ~30 ms slower, ours and the baselines alike.
const extraCaCerts = Boolean(process.env.NODE_EXTRA_CA_CERTS) && Number(process.versions.node.split('.')[0]) < 22;
if (extraCaCerts) {
  console.log(`note: NODE_EXTRA_CA_CERTS is set, and Node ${process.version} parses it at every start: the process rows are slower by that; \`env -u NODE_EXTRA_CA_CERTS\` measures without it`);
}
const out = new URL('./results/latest.json', import.meta.url);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(out, JSON.stringify({ meta: { node: process.version, cpus: cpus().length, smoke: opts.smoke, rounds, date: new Date().toISOString(), extraCaCerts, size }, rows }, null, 2));
console.log(`wrote ${out.pathname}`);
if (opts.chart) {
  await writeChart(rows, opts['chart-out']);
  console.log(`wrote ${opts['chart-out']}`);
}
