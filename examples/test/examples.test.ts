// Runs every example as a user would (`tsx <file>` in examples/) and checks what the Python
// original's documentation shows: the same lines, in the same order where that order is
// guaranteed, as a set where the scheduler decides. Every run must leave no process behind.
import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExample, sorted, type ExampleRun } from './helpers';

function expectedDigest(n: number): string {
  let digest = String(n);
  for (let i = 0; i < 20_000; i++) digest = createHash('sha256').update(digest).digest('hex');
  return digest.slice(0, 12);
}

function expectClean(run: ExampleRun, code = 0): void {
  expect(run.leftBehind, `processes left behind: ${run.leftBehind.join(', ')}\nstderr:\n${run.stderr}`).toEqual([]);
  expect({ code: run.code, signal: run.signal }, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toEqual({ code, signal: null });
}

describe('examples ported from Python', () => {
  test('start-methods.ts: "hello" through a forkserver child, then through a spawn child', async () => {
    const run = await runExample('start-methods.ts');
    expectClean(run);
    expect(run.lines).toEqual(['hello', 'hello']);
    expect(run.stderr).toBe('');
  });

  test('multiprocessing-simple.ts: five workers print "Worker"', async () => {
    const run = await runExample('multiprocessing-simple.ts');
    expectClean(run);
    expect(run.lines).toEqual(['Worker', 'Worker', 'Worker', 'Worker', 'Worker']);
    expect(run.stderr).toBe('');
  });

  test('multiprocessing-simpleargs.ts: "Worker: 0" … "Worker: 4", in any order', async () => {
    const run = await runExample('multiprocessing-simpleargs.ts');
    expectClean(run);
    expect(sorted(run.lines)).toEqual(['Worker: 0', 'Worker: 1', 'Worker: 2', 'Worker: 3', 'Worker: 4']);
    expect(run.stderr).toBe('');
  });

  test('multiprocessing-daemon.ts: the daemon never prints "Exiting :"', async () => {
    const run = await runExample('multiprocessing-daemon.ts');
    expectClean(run);
    const [daemon, nonDaemon, exiting, ...rest] = run.lines;
    expect(rest).toEqual([]);
    const d = daemon.match(/^Starting: daemon (\d+)$/);
    const n = nonDaemon.match(/^Starting: non-daemon (\d+)$/);
    expect(d, run.stdout).not.toBeNull();
    expect(n, run.stdout).not.toBeNull();
    expect(exiting).toBe(`Exiting : non-daemon ${n![1]}`);
    expect(d![1]).not.toBe(n![1]);
    expect(run.stdout).not.toContain('Exiting : daemon');
    expect(run.stderr).toBe('');
  });

  test('multiprocessing-daemon-join.ts: joining the daemon lets it finish', async () => {
    const run = await runExample('multiprocessing-daemon-join.ts');
    expectClean(run);
    expect(sorted(run.lines)).toEqual(sorted(['Starting: non-daemon', 'Exiting : non-daemon', 'Starting: daemon', 'Exiting : daemon']));
    // What is ordered: each process starts before it exits, and the daemon (sleeping 2 s) ends last.
    expect(run.lines.indexOf('Starting: non-daemon')).toBeLessThan(run.lines.indexOf('Exiting : non-daemon'));
    expect(run.lines.at(-1)).toBe('Exiting : daemon');
    expect(run.stderr).toBe('');
  });

  test('multiprocessing-daemon-join-timeout.ts: join(3) times out, the daemon is still alive and never exits by itself', async () => {
    const run = await runExample('multiprocessing-daemon-join-timeout.ts');
    expectClean(run);
    expect(sorted(run.lines)).toEqual(sorted(['Starting: daemon', 'Starting: non-daemon', 'Exiting : non-daemon', 'd.isAlive() true']));
    expect(run.lines.at(-1)).toBe('d.isAlive() true');
    expect(run.stdout).not.toContain('Exiting : daemon');
    expect(run.stderr).toBe('');
  });

  test('multiprocessing-terminate.ts: the repr through terminate() and join()', async () => {
    const run = await runExample('multiprocessing-terminate.ts');
    expectClean(run);
    expect(run.lines.filter((l) => !l.startsWith('Starting worker'))).toEqual([
      'BEFORE: <Process(Process-1, initial)> false',
      'DURING: <Process(Process-1, started)> true',
      'TERMINATED: <Process(Process-1, started)> true',
      'JOINED: <Process(Process-1, stopped[SIGTERM])> false',
    ]);
    expect(run.stdout).not.toContain('Finished worker');
    expect(run.stderr).toBe('');
  });

  test('multiprocessing-exitcode.ts: exit codes 1, 0, 0, 1, -15 and the error report on stderr', async () => {
    const run = await runExample('multiprocessing-exitcode.ts');
    expectClean(run);
    expect(run.lines).toEqual([
      'Starting process for exit_error',
      'Starting process for exit_ok',
      'Starting process for return_value',
      'Starting process for raises',
      'Starting process for terminated',
      'exit_error.exitcode = 1',
      'exit_ok.exitcode = 0',
      'return_value.exitcode = 0',
      'raises.exitcode = 1',
      'terminated.exitcode = -15',
    ]);
    expect(run.stderr).toMatch(/^Process raises:$/m);
    expect(run.stderr).toContain('There was an error!');
  });

  test('hello-bob.ts: "hello bob"', async () => {
    const run = await runExample('hello-bob.ts');
    expectClean(run);
    expect(run.lines).toEqual(['hello bob']);
    expect(run.stderr).toBe('');
  });

  test('process-methods.ts: the documentation example of Process methods', async () => {
    const run = await runExample('process-methods.ts');
    expectClean(run);
    expect(run.lines).toEqual([
      '<Process(Process-1, initial)> false',
      '<Process(Process-1, started)> true',
      '<Process(Process-1, stopped[SIGTERM])> false',
      'true',
    ]);
    expect(run.stderr).toBe('');
  });
});

describe('Pipe and Listener/Client examples', () => {
  test('pipe.ts: the seed example, the child sends [42, null, "hello"]', async () => {
    const run = await runExample('pipe.ts');
    expectClean(run);
    expect(run.lines).toEqual(["[ 42, null, 'hello' ]"]);
    expect(run.stderr).toBe('');
  });

  test('queue.ts: the seed example, the child puts [42, null, "hello"]', async () => {
    const run = await runExample('queue.ts');
    expectClean(run);
    expect(run.lines).toEqual(["[ 42, null, 'hello' ]"]);
    expect(run.stderr).toBe('');
  });

  test('queue-pipeline.ts: a producer, three workers and a bounded queue', async () => {
    const run = await runExample('queue-pipeline.ts');
    expectClean(run);
    expect(run.lines[0]).toMatch(/^60 jobs done by 3 workers on \d+ CPUs$/);
    expect(run.lines.slice(1)).toEqual([`job 1 -> ${expectedDigest(1)}`, 'exit codes: 0 0 0 0']);
    expect(run.stderr).toBe('');
  });

  test('joinable-queue.ts: join() returns once every task is marked done', async () => {
    const run = await runExample('joinable-queue.ts');
    expectClean(run);
    expect(run.lines).toEqual(['all 5 tasks done: ALPHA, BETA, DELTA, EPSILON, GAMMA']);
    expect(run.stderr).toBe('');
  });

  test('pool-primes.ts: a CPU-bound map over every core', async () => {
    const run = await runExample('pool-primes.ts');
    expectClean(run);
    expect(run.lines[0]).toBe('primes below 2,000,000: 148933');
    expect(run.stderr).toBe('');
  });

  test('shared-counter.ts: += 1 loses updates, Atomics.add does not', async () => {
    const run = await runExample('shared-counter.ts');
    expectClean(run);
    // Whether += 1 loses updates is up to the scheduler; that Atomics.add loses none is not.
    expect(run.lines[0]).toMatch(/^v\.value \+= 1: \d+ of 4000000 \(lost \d+ updates\)$/);
    expect(run.lines[1]).toBe('Atomics.add: 4000000 of 4000000 (lost 0 updates)');
    expect(run.stderr).toBe('');
  });

  test('sync-lock-print.ts: ten processes print through one Lock, whole lines', async () => {
    const run = await runExample('sync-lock-print.ts');
    expectClean(run);
    expect(sorted(run.lines)).toEqual(sorted(Array.from({ length: 10 }, (_, i) => `hello world ${i}`)));
    expect(run.stderr).toBe('');
  });

  test("sync-counter.ts: += 1 under the Value's lock loses nothing, awaited or sync", async () => {
    const run = await runExample('sync-counter.ts');
    expectClean(run);
    expect(run.lines).toEqual(['await lock.hold(): 40000 of 40000', 'lock.acquireSync(): 40000 of 40000']);
    expect(run.stderr).toBe('');
  });

  test("sync-barrier.ts: the action runs once before any runner is through; arrivals and places are 0..3 and 1..4", async () => {
    const run = await runExample('sync-barrier.ts');
    expectClean(run);
    expect(run.lines[0]).toBe('go!');
    const runners = run.lines.slice(1, 5).map((l) => /^runner (\d): arrived (\d), finished (\d)$/.exec(l));
    expect(runners.every(Boolean), run.stdout).toBe(true);
    expect(runners.map((m) => m![1]).sort()).toEqual(['1', '2', '3', '4']);
    expect(runners.map((m) => m![2]).sort()).toEqual(['0', '1', '2', '3']);
    expect(runners.map((m) => m![3]).sort()).toEqual(['1', '2', '3', '4']);
    const winner = runners.find((m) => m![3] === '1')![1];
    expect(run.lines.slice(5)).toEqual([`winner: runner ${winner}`]);
    expect(run.stderr).toBe('');
  });

  test('sync-condition.ts: a producer and two consumers over two Conditions, every item once', async () => {
    const run = await runExample('sync-condition.ts');
    expectClean(run);
    const taken = run.lines.slice(0, 2).map((l) => /^consumer ([AB]): took (\d+) items$/.exec(l));
    expect(taken.every(Boolean), run.stdout).toBe(true);
    expect(taken.map((m) => m![1]).sort()).toEqual(['A', 'B']);
    expect(taken.reduce((n, m) => n + Number(m![2]), 0)).toBe(20);
    expect(run.lines.slice(2)).toEqual(['consumed 20 of 20 items, sum 210 (expected 210)']);
    expect(run.stderr).toBe('');
  });

  test('shared-array.ts: a Pool sums subarray views of one RawArray', async () => {
    const run = await runExample('shared-array.ts');
    expectClean(run);
    expect(run.lines).toEqual([`per slice: ${Array(8).fill(2250000).join(' ')}`, 'total: 18000000 (local: 18000000)']);
    expect(run.stderr).toBe('');
  });

  test('pool-initializer.ts: the initializer runs once in each worker', async () => {
    const run = await runExample('pool-initializer.ts');
    expectClean(run);
    expect(run.lines.filter((l) => /^worker \d+ loaded a table of 256$/.test(l)).length).toBe(2);
    expect(run.lines.at(-1)).toBe('lookups: 1 4 9 179 110');
  });

  test('pool-imap-queue.ts: imapUnordered feeding a Queue read by another process', async () => {
    const run = await runExample('pool-imap-queue.ts');
    expectClean(run);
    const expected = (() => {
      let data = 'block 0';
      for (let i = 0; i < 2_000; i++) data = createHash('sha256').update(data).digest('hex');
      return data.slice(0, 16);
    })();
    expect(run.lines).toEqual(['writer stored 100 digests', `block 0 -> ${expected}, writer exit 0`]);
  });

  test('pipe-siblings.ts: two children talk over a Pipe the parent made', async () => {
    const run = await runExample('pipe-siblings.ts');
    expectClean(run);
    expect(run.lines).toEqual(['consumer received a sum of 5050', 'producer exit 0, consumer exit 0']);
  });

  test('pipe-handoff.ts: a Pipe made after both children started, one end sent to each', async () => {
    const run = await runExample('pipe-handoff.ts');
    expectClean(run);
    expect(run.lines).toEqual(["the parent's ends are closed: true", 'A was told 42', 'exit codes 0 0']);
  });

  test('listener-client.ts: an authkey handshake, and a wrong key refused on both sides', async () => {
    const run = await runExample('listener-client.ts');
    expectClean(run);
    expect(run.lines).toEqual([
      "listener got: { greeting: 'hello from the client' }",
      'client got: welcome',
      'listener: AuthenticationError (true)',
      'wrong-key client exit 1',
    ]);
    expect(run.stderr).toMatch(/^Process Process-2:\nAuthenticationError: the peer rejected our digest/);
  });
});

describe('teaching examples (docs/teaching.md)', () => {
  test('threads-vs-processes.ts: a thread shares the pid, a child does not; neither shares globals', async () => {
    const run = await runExample('threads-vs-processes.ts');
    expectClean(run);
    expect(run.lines).toEqual([
      'worker thread: same pid as the parent: true, its counter: 1',
      'child process: same pid as the parent: false, its counter: 1',
      'parent: its counter is still 100',
    ]);
    expect(run.stderr).toBe('');
  });

  test('queue-killed-consumer.ts: a consumer killed after 5 gets; the parent gets 6..20 in order, then Empty', async () => {
    const run = await runExample('queue-killed-consumer.ts');
    expectClean(run);
    expect(run.lines).toEqual([
      'the consumer took: 1 2 3 4 5',
      'killed: exit code -9',
      'the parent got: 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20',
      'then: Empty',
    ]);
    expect(run.stderr).toBe('');
  });

  test('no-main-guard.ts: the child refuses to start a process while importing, and says why', async () => {
    const run = await runExample('no-main-guard.ts');
    expectClean(run);
    expect(run.lines).toEqual(['the child ended with exit code 1, and its error on stderr says why']);
    expect(run.stderr).toMatch(/^Process Process-1:\nProcessError: A process was started while this child process was still importing the module of its target/);
    expect(run.stderr).toContain('if (isMainModule(import.meta))');
    expect(run.stdout).not.toContain('f runs');
  });
});

describe('demo', () => {
  test('demo.mjs: a Queue, a Pool, a Pipe and a Listener/Client at work, each step naming its Python construct, then the timeline', async () => {
    // Its own temp dir, to see that it leaves no file there (Pipe and Listener sockets live there).
    const tmp = mkdtempSync(join(tmpdir(), 'demo-test-'));
    const run = await runExample('demo.mjs', { env: { TMPDIR: tmp } });
    // Node 22.1+ keeps its compile cache there (children turn it on, see core's child.ts): Node's
    // cache, reused by the next run, not something the demo left.
    const leftFiles = readdirSync(tmp).filter((f) => f !== 'node-compile-cache');
    rmSync(tmp, { recursive: true, force: true });
    expectClean(run);
    expect(run.stderr).toBe('');
    expect(leftFiles).toEqual([]);
    const mainPid = /^MainProcess \(pid (\d+)\) runs this behind isMainModule\(import\.meta\), Python's if __name__ == '__main__':$/.exec(run.lines[0])?.[1];
    expect(mainPid, run.stdout).toBeDefined();
    // The queue's broker keeps its files in /dev/shm (where there is one), in a directory named after its process.
    if (existsSync('/dev/shm')) expect(readdirSync('/dev/shm').filter((f) => f.startsWith(`multiproc-queue-${mainPid}-`))).toEqual([]);
    // Every step's heading, in order, says which part of Python's multiprocessing it mirrors.
    expect(run.lines.filter((l) => /^\d+\. /.test(l)).map((l) => l.split(':')[0])).toEqual([
      '1. Queue — multiprocessing.Queue',
      '2. Pool — multiprocessing.Pool.map',
      '3. Pipe — multiprocessing.Pipe',
      '4. Listener/Client — multiprocessing.connection',
      '5. Timeline — beyond Python',
    ]);
    const step = (n: number) => {
      const from = run.lines.findIndex((l) => l.startsWith(`${n}. `));
      const to = run.lines.findIndex((l, i) => i > from && (/^\d+\. /.test(l) || l.startsWith('done in')));
      return run.lines.slice(from + 1, to).filter((l) => l !== '').map((l) => l.trim());
    };
    expect(step(1)).toEqual([expect.stringMatching(/^got 200 numbers from Process-1 \(pid \d+\), in the order put: true$/)]);
    // Not a terminal: the demo says where the bar appears, then both workers report their share.
    const [note, ...workers] = step(2);
    expect(note).toBe('(the progress bar is drawn on stderr when it is a terminal: run `npm run demo` in one)');
    const shares = workers.map((l) => /^worker pid (\d+) squared (\d+) numbers$/.exec(l));
    expect(shares.every(Boolean), run.stdout).toBe(true);
    expect(new Set(shares.map((m) => m![1])).size).toBe(shares.length);
    expect(shares.reduce((n, m) => n + Number(m![2]), 0)).toBe(200);
    expect(step(3)).toEqual([expect.stringMatching(/^Process-\d+ \(pid \d+\) sent back the sum 2686700 \(expected n\(n\+1\)\(2n\+1\)\/6 = 2686700\)$/)]);
    const [accepted, ...talk] = step(4);
    const address = /^listener at (\S+) accepted a client that knew the key$/.exec(accepted)?.[1];
    expect(address, run.stdout).toBeDefined();
    expect(talk.map((l) => l.replace(/pid \d+/, 'pid N'))).toEqual([
      "client (pid N) sent 'hello', got back 'HELLO'",
      "client (pid N) sent 'from', got back 'FROM'",
      "client (pid N) sent 'a client', got back 'A CLIENT'",
      'the client hung up; listener closed, its socket file gone: true',
    ]);
    expect(existsSync(address!)).toBe(false);
    // The timeline has a row for the main process and each of the six children the steps started.
    const timeline = step(5);
    expect(timeline[0], run.stdout).toMatch(/^multiproc trace: 6 processes, \d+ ms, \d+ messages and items sent$/);
    const rows = timeline.filter((l) => /^(MainProcess|Process-\d+) \(pid \d+\) +\|/.test(l)).map((l) => l.split(' ')[0]);
    // Rows are in order of start, and the two pool workers start together: compare as a set.
    expect(rows.sort()).toEqual(['MainProcess', 'Process-1', 'Process-2', 'Process-3', 'Process-4', 'Process-5']);
    expect(timeline.at(-1)).toBe('to keep the trace for Perfetto or chrome://tracing: MULTIPROC_TRACE=trace.json npm run demo');
    expect(run.lines.at(-1)).toMatch(/^done in \d+\.\d s; every child has ended$/);
  });
});

describe('logging', () => {
  test('multiprocessing-log-to-stderr.ts: the child\'s life in order, each line naming its process', async () => {
    const run = await runExample('multiprocessing-log-to-stderr.ts');
    expectClean(run);
    expect(run.lines).toEqual(['Doing some work']);
    expect(run.stderr.trimEnd().split('\n').map((l) => l.replace(/pid \d+/, 'pid N'))).toEqual([
      '[INFO/MainProcess] starting Process-1 (spawn)',
      '[DEBUG/MainProcess] Process-1 has pid N',
      '[INFO/Process-1] child process calling self.run()',
      '[INFO/Process-1] process shutting down',
      '[DEBUG/Process-1] running the remaining "atexit" finalizers',
      '[INFO/Process-1] process exiting with exitcode 0',
      '[DEBUG/MainProcess] Process-1 (pid N) ended with exit code 0',
      '[INFO/MainProcess] process shutting down',
    ]);
  });
});
