// Process workloads: process_start_join_ms, process_first_instruction_ms, terminate_ms,
// spawn_fanout_ms — ours, Python's, and a bare `node -e ""` start as what Node itself costs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, read, readFileSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeRuns } from '../lib/stats.mjs';

const targets = new URL('../children/targets.mjs', import.meta.url);
const ref = (name) => ({ module: targets, export: name });

function bareNode() {
  return new Promise((resolve, reject) => {
    spawn(process.execPath, ['-e', ''], { stdio: 'inherit' }).on('error', reject).on('exit', resolve);
  });
}

async function startJoin(mp, method, size) {
  const ctx = mp.getContext(method);
  return timeRuns(
    async () => {
      const p = new ctx.Process({ target: ref('noop') });
      p.start();
      await p.join();
      if (p.exitCode !== 0) throw new Error(`noop ended with ${p.exitCode}`);
    },
    { runs: size.START_JOIN_RUNS, warmup: size.START_JOIN_WARMUP },
  );
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
    peers: { 'node -e ""': () => timeRuns(bareNode, { runs: size.START_JOIN_RUNS, warmup: size.START_JOIN_WARMUP }) },
  },
  {
    metric: 'process_start_join_ms[forkserver]',
    python: 'process_start_join_ms',
    unit: 'ms',
    better: 'lower',
    target: { absolute: 3 },
    ours: (mp) => {
      if (!mp.getAllStartMethods().includes('forkserver')) throw new Error("no 'forkserver' start method yet");
      return startJoin(mp, 'forkserver', size);
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
    ours: (mp) =>
      timeRuns(
        async () => {
          const procs = Array.from({ length: size.FANOUT }, () => new mp.Process({ target: ref('noop') }));
          for (const p of procs) p.start();
          for (const p of procs) await p.join();
          if (procs.some((p) => p.exitCode !== 0)) throw new Error('a fan-out child failed');
        },
        { runs: size.FANOUT_REPS, warmup: size.FANOUT_WARMUP },
      ),
  },
];
