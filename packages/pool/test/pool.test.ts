import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from '../../core/test/helpers/procs';
import { ProcessError } from '@multiproc/errors';
import { getContext } from '@multiproc/core';
import { Pool } from '@multiproc/pool';
import { poolCases } from './pool-cases';

const tasks = new URL('./fixtures/tasks.mjs', import.meta.url);
const t = (name: string) => ({ module: tasks, export: name });

describe('Pool: what every pool does (pool-cases.ts, also run on a RemotePool)', () => {
  poolCases({
    make: (processes) => new Pool(processes),
    task: t,
    // About 256 items per worker, and a chunk in flight each.
    imapReadAhead: 2 * 256 + 2 * 10,
    processes: (pool) => (pool as Pool).processes,
  });
});

describe('Pool: results', () => {
  it('a plain function is a task too', async () => {
    await using pool = new Pool(2);
    expect(await pool.apply((a: number, b: number) => a * b, [6, 7])).toBe(42);
  });

  it('200,000 tiny tasks take a few chunks (Python default chunksize), results in order', async () => {
    await using pool = new Pool(2);
    const items = Array.from({ length: 200_000 }, (_, i) => i);
    const out = await pool.map((x: number) => x + 1, items);
    expect(out.length).toBe(items.length);
    expect(out.every((v, i) => v === i + 1)).toBe(true);
  });

  it('long runs of numbers (sent packed) come back exactly, in a plain array', async () => {
    await using pool = new Pool(2);
    const ints = Array.from({ length: 1000 }, (_, i) => (i % 2 ? -i : i * 1000));
    const doubles = [...ints.slice(0, 500), -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 0.1, 1e-320, ...ints.slice(500)];
    const mixed = [...ints, 'not a number', 7];
    for (const items of [ints, doubles, mixed]) {
      const out = await pool.map(t('identity'), items, 300);
      expect(Array.isArray(out)).toBe(true);
      expect(out.length).toBe(items.length);
      expect(out.every((v, i) => Object.is(v, items[i]))).toBe(true);
    }
    // A typed array is taken as it is (not spread), and comes back as a plain array.
    const typed = Float64Array.from(doubles.slice(0, 700));
    const fromTyped = await pool.map(t('identity'), typed, 300);
    expect(Array.isArray(fromTyped)).toBe(true);
    expect(fromTyped.every((v, i) => Object.is(v, typed[i]))).toBe(true);
    // The task sees numbers, never a typed array; -0 stays -0.
    const kinds = await pool.map(t('kind'), doubles, 600);
    expect(kinds.filter((k) => k !== 'number')).toEqual(['-0']);
    const got: unknown[] = [];
    for await (const v of pool.imap(t('identity'), doubles, 400)) got.push(v);
    expect(got.every((v, i) => Object.is(v, doubles[i]))).toBe(true);
  });

  it('imap goes through ten million items with a bounded number read ahead of those taken', async () => {
    await using pool = new Pool(2);
    const N = 10_000_000;
    let pulled = 0;
    function* tenMillion() {
      for (let i = 0; i < N; i++) {
        pulled++;
        yield i;
      }
    }
    let taken = 0;
    let sum = 0;
    let ahead = 0;
    for await (const v of pool.imap<number>(t('identity'), tenMillion(), 10_000)) {
      sum += v;
      if (++taken % 10_000 === 0) ahead = Math.max(ahead, pulled - taken);
    }
    expect(taken).toBe(N);
    expect(sum).toBe((N * (N - 1)) / 2);
    // Big chunks: a few per worker in flight (8 chunks of 10,000 here), never the input.
    expect(ahead).toBeLessThanOrEqual(10 * 10_000);
  });

  it('breaking out of imap stops dispatching: chunks not sent yet never run', async () => {
    await using pool = new Pool(1);
    function* endless() {
      for (let i = 0; ; i++) yield i;
    }
    let taken = 0;
    for await (const n of pool.imap<number>(t('busy'), endless())) {
      expect(n).toBe(++taken);
      if (taken === 5) break;
    }
    // Tasks run in order in the one worker: this one comes after whatever was still sent. A few
    // were in flight; without the drop, the whole window (256 chunks) would run first.
    const ran = await pool.apply<number>(t('ranSoFar'));
    expect(ran).toBeGreaterThanOrEqual(5);
    expect(ran).toBeLessThan(5 + 16);
  });
});

describe('Pool: errors and faults', () => {
  // A RemotePool refuses a missing module at once: it reads the module in the caller.
  it('a task module that cannot be found fails its calls in the worker; the worker stays', async () => {
    await using pool = new Pool(1);
    const [pid] = pool.processes.map((p) => p.pid);
    await expect(pool.map({ module: new URL('./fixtures/missing.mjs', import.meta.url) }, [1, 2], 1)).rejects.toThrow(/cannot find the module/);
    await expect(pool.apply(t('noSuchExport'))).rejects.toThrow(/has no export/);
    expect(await pool.apply(t('square'), [4])).toBe(16);
    expect(pool.processes.map((p) => p.pid)).toEqual([pid]);
  });

  it('a result or an argument that cannot be cloned fails its task only', async () => {
    await using pool = new Pool(1);
    await expect(pool.apply(t('returnsFunction'))).rejects.toThrow(/function/);
    await expect(pool.map(t('square'), [1, () => 2] as any)).rejects.toThrow(/function/);
    expect(await pool.apply(t('square'), [5])).toBe(25);
  });

  it('an initializer that throws fails the tasks with its error instead of respawning forever', async () => {
    const pool = new Pool({ processes: 1, initializer: t('failingInit') });
    const err: any = await pool.map(t('square'), [1]).catch((e: any) => e);
    expect(err).toBeInstanceOf(ProcessError);
    expect(err.message).toMatch(/the pool's initializer failed in a worker: Error: the initializer failed on purpose/);
    expect(err.cause.stack).toMatch(/failingInit/);
    expect(() => pool.apply(t('square'), [2])).toThrow(/initializer failed/);
    pool.terminate();
    await pool.join();
  });

  it('a worker that exits before it is ready fails the tasks instead of respawning forever', async () => {
    const pool = new Pool({ processes: 2, initializer: t('exitingInit') });
    await expect(pool.apply(t('square'), [1])).rejects.toThrow(/ended with exit code 0 before it was ready/);
    pool.terminate();
    await pool.join();
    expect(pool.processes).toEqual([]);
  });
});

describe('Pool: workers and life', () => {
  it('initializer and initargs run in every worker', async () => {
    await using pool = new Pool({ processes: 2, initializer: t('init'), initargs: ['set by init'] });
    expect(await pool.map(t('whoami'), [1, 2, 3, 4], 1)).toEqual(Array(4).fill('set by init'));
  });

  it('maxtasksperchild replaces a worker after that many tasks', async () => {
    await using pool = new Pool({ processes: 1, maxtasksperchild: 2 });
    const pids: number[] = [];
    for (let i = 0; i < 6; i++) pids.push(await pool.apply<number>(t('pid')));
    expect(new Set(pids).size).toBe(3);
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).toBe(pids[3]);
    expect(pids[4]).toBe(pids[5]);
  });

  it('logs its life at DEBUG: workers added and replaced, closing and joining', async () => {
    const { code, stdout, stderr } = await runNode(fileURLToPath(new URL('./fixtures/logged.mjs', import.meta.url))).done;
    expect(code, stderr).toBe(0);
    const [first, second] = stdout.split(' ').map(Number);
    const main = stderr.split('\n').filter((l) => l.startsWith('[DEBUG/MainProcess]') && !/connection|has pid|\(pid \d+\) ended with/.test(l));
    expect(main).toEqual([
      '[DEBUG/MainProcess] added worker',
      '[DEBUG/MainProcess] added worker',
      `[DEBUG/MainProcess] worker replaced: pid ${first} ended with exit code 0, pid ${second} takes its place`,
      '[DEBUG/MainProcess] closing pool',
      '[DEBUG/MainProcess] joining pool',
    ]);
    expect(stderr).toContain('[DEBUG/Process-1] worker exiting after 1 tasks');
  });

  it('checks its options', () => {
    expect(() => new Pool(0)).toThrow(/positive integer/);
    expect(() => new Pool({ processes: 1, maxtasksperchild: 0 })).toThrow(/maxtasksperchild/);
    expect(() => new Pool({ processes: 1, nope: 1 } as any)).toThrow(/unknown option 'nope'/);
    expect(() => new Pool({ processes: 1, initargs: 'x' as any })).toThrow(/initargs/);
  });

  it('getContext(method).Pool starts its workers with that method; an idle pool does not keep a program alive', async () => {
    const pool = new (getContext('spawn').Pool)(1);
    expect(String(pool.processes[0])).toMatch(/^<SpawnProcess\(/);
    expect(await pool.apply(t('square'), [3])).toBe(9);
    pool.terminate();
    await pool.join();
  });

  it('a program that never closes its pool still ends, and takes its workers along', async () => {
    const run = runNode(fileURLToPath(new URL('./fixtures/forgotten.mjs', import.meta.url)));
    const { code, stdout } = await run.done;
    expect({ code, stdout: stdout.trim() }).toEqual({ code: 0, stdout: '2 4 6' });
  });

  it.skipIf(!existsSync('/usr/bin/script'))('progress: a bar on the terminal (cli-progress), nothing when stderr is not one', () => {
    const fixture = fileURLToPath(new URL('./fixtures/progress.mjs', import.meta.url));
    const onTerminal = execFileSync('/usr/bin/script', ['-qec', `${process.execPath} ${fixture}`, '/dev/null'], { encoding: 'utf8' });
    expect(onTerminal).toMatch(/squares \[.*\] 100% \| 1000\/1000/);
    expect(onTerminal).toMatch(/done 1000/);
    const piped = execFileSync(process.execPath, [fixture], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(piped).toBe('done 1000\n');
  });
});
