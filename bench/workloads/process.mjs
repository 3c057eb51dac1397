// Process workloads: process_start_join_ms, process_first_instruction_ms, terminate_ms,
// spawn_fanout_ms — ours, Python's, and a bare `node -e ""` start as what Node itself costs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, read, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeRuns } from '../lib/stats.mjs';

const targets = new URL('../children/targets.mjs', import.meta.url);
const ref = (name) => ({ module: targets, export: name });

/** `node <module> [args]` over an IPC channel, as our 'spawn' children run. */
function bareIpcModule(module = '../children/noop.mjs', args = []) {
  return new Promise((resolve, reject) => {
    spawn(process.execPath, [new URL(module, import.meta.url).pathname, ...args], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
      .on('error', reject)
      .on('exit', resolve);
  });
}

/** What a user-shaped 'spawn' child costs before any of ours: Node runs the main module (which imports multiproc) over an IPC channel. */
const userMainAlone = () => bareIpcModule('../children/user-main.mjs', ['--runs', '0', '--warmup', '0']);

function bareNode() {
  return new Promise((resolve, reject) => {
    spawn(process.execPath, ['-e', ''], { stdio: 'inherit' }).on('error', reject).on('exit', resolve);
  });
}

/** A user's pace: one start every 150 ms (a program that starts processes as work comes in). */
const PACE_MS = 150;

/**
 * A user's program, run as the main module of a fresh Node process (children/user-main.mjs) or
 * Python (python/user_main.py): its main module imports the library and exports the target;
 * it starts processes one every PACE_MS and prints the start + join samples.
 */
function userMain(size, method, python = false) {
  const args = ['--method', method, '--runs', String(size.START_JOIN_RUNS), '--warmup', String(size.START_JOIN_WARMUP)];
  const out = python
    ? execFileSync('python3', [new URL('../python/user_main.py', import.meta.url).pathname, ...args, '--pace', String(PACE_MS / 1000)], { encoding: 'utf8' })
    : execFileSync(process.execPath, [new URL('../children/user-main.mjs', import.meta.url).pathname, ...args, '--pace', String(PACE_MS)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

/** `refill`: before each start (untimed), wait until the 'forkserver' pool is full again. */
async function startJoin(mp, method, size, refill = false) {
  const ctx = mp.getContext(method);
  const out = [];
  for (let i = 0; i < size.START_JOIN_WARMUP + size.START_JOIN_RUNS; i++) {
    if (refill) await mp.forkserverReady();
    const t0 = performance.now();
    const p = new ctx.Process({ target: ref('noop') });
    p.start();
    await p.join();
    const ms = performance.now() - t0;
    if (p.exitCode !== 0) throw new Error(`noop ended with ${p.exitCode}`);
    if (i >= size.START_JOIN_WARMUP) out.push(ms);
  }
  return out;
}

/** Runs `fn` with `spares` 'forkserver' spares (null: the default), booted and ready first; then ends them. */
async function withSpares(mp, spares, fn) {
  if (!mp.getAllStartMethods().includes('forkserver')) throw new Error("no 'forkserver' start method");
  const before = mp.getForkserverOptions();
  if (spares !== null) mp.setForkserverOptions({ spares });
  try {
    await mp.forkserverReady();
    return await fn();
  } finally {
    mp.setForkserverOptions({ ...before, spares: 0 });
    mp.setForkserverOptions(before);
  }
}

/** Starts `size.FANOUT` processes, then joins them; `beforeEach` runs untimed before each repetition. */
async function fanout(mp, method, size, beforeEach = async () => {}) {
  const ctx = mp.getContext(method);
  const out = [];
  for (let i = 0; i < size.FANOUT_WARMUP + size.FANOUT_REPS; i++) {
    await beforeEach();
    const t0 = performance.now();
    const procs = Array.from({ length: size.FANOUT }, () => new ctx.Process({ target: ref('noop') }));
    for (const p of procs) p.start();
    for (const p of procs) await p.join();
    const ms = performance.now() - t0;
    if (procs.some((p) => p.exitCode !== 0)) throw new Error('a fan-out child failed');
    if (i >= size.FANOUT_WARMUP) out.push(ms);
  }
  return out;
}

/** A bare Node child that says it runs, then is SIGTERMed: what killing any Node process costs. */
async function bareNodeTerminate(size) {
  const out = [];
  for (let i = 0; i < size.TERMINATE_WARMUP + size.TERMINATE_RUNS; i++) {
    const cp = spawn(process.execPath, ['-e', 'process.stdout.write("r"); setInterval(() => {}, 1 << 30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => cp.stdout.once('data', resolve));
    const t0 = performance.now();
    cp.kill('SIGTERM');
    await new Promise((resolve) => cp.once('exit', resolve));
    if (i >= size.TERMINATE_WARMUP) out.push(performance.now() - t0);
  }
  return out;
}

function withTmp(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'mp-bench-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Resolves when one byte arrives on a FIFO (opened read-write so opening never blocks). */
function fifoReady(fifo) {
  const fd = openSync(fifo, 'r+');
  return new Promise((resolve, reject) =>
    read(fd, Buffer.alloc(1), 0, 1, null, (err) => {
      closeSync(fd);
      if (err) reject(err);
      else resolve();
    }),
  );
}

export default (size) => [
  {
    metric: 'process_start_join_ms[spawn]',
    python: 'process_start_join_ms',
    unit: 'ms',
    better: 'lower',
    target: { against: 'node -e ""', factor: 1.15 },
    ours: (mp) => startJoin(mp, 'spawn', size),
    peers: {
      'node -e ""': () => timeRuns(bareNode, { runs: size.START_JOIN_RUNS, warmup: size.START_JOIN_WARMUP }),
      // What our child must do at least: run an ES module (the target's) over an IPC channel.
      'node noop.mjs over IPC': () => timeRuns(() => bareIpcModule(), { runs: size.START_JOIN_RUNS, warmup: size.START_JOIN_WARMUP }),
    },
  },
  {
    metric: 'process_start_join_ms[forkserver]',
    python: 'process_start_join_ms',
    unit: 'ms',
    better: 'lower',
    target: { absolute: 3 },
    // mp_bench.py starts its 2 + 30 processes back to back, and a spare costs ~40 ms of CPU to
    // boot: the pool is sized for the burst and filled before it. The peers say what the default
    // pool gives, back to back and when it may refill between starts.
    note: 'spares = warm-up + runs, filled before the burst',
    ours: (mp) => withSpares(mp, size.START_JOIN_WARMUP + size.START_JOIN_RUNS, () => startJoin(mp, 'forkserver', size)),
    peers: {
      'default spares, back to back': (mp) => withSpares(mp, null, () => startJoin(mp, 'forkserver', size)),
      'default spares, refilled between starts': (mp) => withSpares(mp, null, () => startJoin(mp, 'forkserver', size, true)),
    },
  },
  // User-shaped: a function exported from a main module that imports multiproc, started at a
  // user's pace with the default pool (the rows above start a module that imports nothing).
  {
    metric: 'process_start_join_user_ms[spawn]',
    python: 'process_start_join_ms',
    unit: 'ms',
    better: 'lower',
    // Issue 20's targets. A bare ES module over an IPC channel is already ~1.3× `node -e ""`: see docs/start-methods.md.
    target: { against: 'node -e ""', factor: 1.3 },
    note: `one start every ${PACE_MS} ms from a main module that imports multiproc (children/user-main.mjs; Python: python/user_main.py)`,
    ours: async () => userMain(size, 'spawn'),
    peers: {
      'node -e ""': () => timeRuns(bareNode, { runs: size.START_JOIN_RUNS, warmup: size.START_JOIN_WARMUP }),
      'node noop.mjs over IPC': () => timeRuns(() => bareIpcModule(), { runs: size.START_JOIN_RUNS, warmup: size.START_JOIN_WARMUP }),
      'node user-main.mjs over IPC, starting nothing': () => timeRuns(userMainAlone, { runs: size.START_JOIN_RUNS, warmup: size.START_JOIN_WARMUP }),
      'python spawn, user main': async () => userMain(size, 'spawn', true),
    },
  },
  {
    metric: 'process_start_join_user_ms[forkserver]',
    python: 'process_start_join_ms',
    unit: 'ms',
    better: 'lower',
    target: { absolute: 5 },
    note: `the same, default spares (which preload the main module)`,
    ours: async () => userMain(size, 'forkserver'),
    peers: {
      'node -e ""': () => timeRuns(bareNode, { runs: size.START_JOIN_RUNS, warmup: size.START_JOIN_WARMUP }),
      'python forkserver, user main': async () => userMain(size, 'forkserver', true),
    },
  },
  {
    metric: 'process_first_instruction_ms[spawn]',
    python: 'process_first_instruction_ms',
    unit: 'ms',
    better: 'lower',
    ours: (mp) =>
      withTmp(async (dir) => {
        const out = [];
        const file = join(dir, 't');
        for (let i = 0; i < size.FIRST_INSTR_WARMUP + size.FIRST_INSTR_RUNS; i++) {
          const p = new mp.Process({ target: ref('firstInstruction'), args: [file] });
          const t0 = process.hrtime.bigint();
          p.start();
          await p.join();
          if (i >= size.FIRST_INSTR_WARMUP) out.push(Number(BigInt(readFileSync(file, 'utf8')) - t0) / 1e6);
        }
        return out;
      }),
  },
  {
    metric: 'terminate_ms',
    python: 'terminate_ms',
    unit: 'ms',
    better: 'lower',
    target: { against: 'python', factor: 1 },
    peers: { 'bare node child': () => bareNodeTerminate(size) },
    ours: (mp) =>
      withTmp(async (dir) => {
        const out = [];
        for (let i = 0; i < size.TERMINATE_WARMUP + size.TERMINATE_RUNS; i++) {
          const fifo = join(dir, `ready-${i}`);
          execFileSync('mkfifo', [fifo]);
          const ready = fifoReady(fifo);
          const p = new mp.Process({ target: ref('sleeper'), args: [fifo] });
          p.start();
          await ready;
          const t0 = performance.now();
          p.terminate();
          await p.join();
          const ms = performance.now() - t0;
          if (p.exitCode !== -15) throw new Error(`terminated child ended with ${p.exitCode}`);
          if (i >= size.TERMINATE_WARMUP) out.push(ms);
        }
        return out;
      }),
  },
  {
    metric: 'spawn_fanout_ms',
    python: 'spawn_fanout_ms',
    unit: 'ms',
    better: 'lower',
    target: { against: 'python', factor: 1 },
    ours: (mp) => fanout(mp, 'spawn', size),
  },
  {
    metric: 'spawn_fanout_ms[forkserver]',
    python: 'spawn_fanout_ms',
    // Against Python's spawn fan-out (mp_bench.py has no forkserver fan-out).
    pythonMetric: 'spawn_fanout_ms',
    unit: 'ms',
    better: 'lower',
    target: { against: 'python', factor: 0.5 },
    note: 'spares = processes, refilled between repetitions',
    ours: (mp) => withSpares(mp, size.FANOUT, () => fanout(mp, 'forkserver', size, () => mp.forkserverReady())),
    peers: {
      'default spares, back to back': (mp) => withSpares(mp, null, () => fanout(mp, 'forkserver', size)),
    },
  },
];
