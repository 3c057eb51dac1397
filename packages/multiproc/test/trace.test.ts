import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { renderTimeline, startTrace } from 'multiproc';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/traced.mjs', import.meta.url));
const bin = fileURLToPath(new URL('../bin/multiproc.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'multiproc-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ev {
  ph: string;
  name: string;
  cat?: string;
  pid: number;
  id?: number;
  ts?: number;
  dur?: number;
  args?: any;
}

async function traced(name: string, how: 'env' | 'api') {
  const file = join(dir, name);
  const { stdout } = await run(process.execPath, how === 'env' ? [fixture] : [fixture, file], { env: { ...process.env, ...(how === 'env' ? { MULTIPROC_TRACE: file } : {}) } });
  const out = JSON.parse(stdout);
  const text = readFileSync(file, 'utf8');
  return { file, out, text, events: (JSON.parse(text) as { traceEvents: Ev[] }).traceEvents };
}

/** Every flow start of `cat` has one finish with its id, and the other way round; returns the pairs. */
function flows(events: Ev[], cat: string): [Ev, Ev][] {
  const starts = events.filter((e) => e.ph === 's' && e.cat === cat);
  const ends = events.filter((e) => e.ph === 'f' && e.cat === cat);
  expect(new Set(starts.map((e) => e.id)).size).toBe(starts.length);
  expect(ends.map((e) => e.id).sort()).toEqual(starts.map((e) => e.id).sort());
  return starts.map((s) => [s, ends.find((e) => e.id === s.id)!]);
}

describe('the trace (MULTIPROC_TRACE, startTrace)', () => {
  it('records a Pipe/Queue/Pool program into one trace-event JSON file, one row per process, with arrows for messages and items', async () => {
    const { out, events, file } = await traced('env.json', 'env');
    expect(out).toMatchObject({ back: 42, item: { from: 'child', m: 21 }, self: 'to self', killed: -9, squares: [1, 4, 9, 16, 25, 36] });
    // Rows: the main process, the echo child, the killed child, two pool workers.
    const names = events.filter((e) => e.ph === 'M' && e.name === 'process_name');
    expect(names.map((e) => e.args.name).sort()).toEqual(['MainProcess', 'Process-1', 'Process-2', 'Process-3', 'Process-4']);
    expect(new Set(names.map((e) => e.pid)).size).toBe(5);
    const pidOf = (n: string) => names.find((e) => e.args.name === n)!.pid;
    const [echoPid, killedPid] = out.pids;
    expect([pidOf('Process-1'), pidOf('Process-2')]).toEqual([echoPid, killedPid]);
    // Each child's span: begun in its row, ended by its parent with the exit code (-9 for the killed one).
    const ends = events.filter((e) => e.ph === 'E' && e.cat === 'process');
    expect(ends.find((e) => e.pid === killedPid)?.args).toEqual({ exitCode: -9 });
    expect(ends.find((e) => e.pid === echoPid)?.args).toEqual({ exitCode: 0 });
    // Start arrows: from the parent's row to each child's.
    for (const [s, f] of flows(events, 'process')) expect(s.pid).not.toBe(f.pid);
    expect(flows(events, 'process')).toHaveLength(4);
    // Pipe messages: the 21 and its answer between the main process and Process-1, with their size.
    const pipe = flows(events, 'pipe');
    const between = pipe.filter(([s, f]) => [s.pid, f.pid].sort().join() === [pidOf('MainProcess'), echoPid].sort().join());
    expect(between).toHaveLength(2);
    const received = (s: Ev) => events.some((r) => r.ph === 'X' && r.name === 'recv' && r.pid === echoPid && r.args.pipe === s.args.pipe && r.args.seq === s.args.seq);
    const sends = events.filter((e) => e.ph === 'X' && e.name === 'send' && e.pid === pidOf('MainProcess') && received(e));
    expect(sends).toHaveLength(1);
    expect(sends[0].args.bytes).toBeGreaterThan(0);
    // Queue items: the child's item to the main process, and the main process's own.
    const queue = flows(events, 'queue').map(([s, f]) => [s.pid, f.pid]);
    expect(queue).toEqual(expect.arrayContaining([[echoPid, pidOf('MainProcess')], [pidOf('MainProcess'), pidOf('MainProcess')]]));
    expect(queue).toHaveLength(2);
    const gets = events.filter((e) => e.ph === 'X' && e.name === 'get' && e.cat === 'queue');
    expect(gets.every((e) => e.args.bytes > 0 && /^\d+\.\d+$/.test(e.args.item))).toBe(true);
    // Pool chunks: spans in the workers' rows, 6 items in chunks of 2.
    const chunks = events.filter((e) => e.ph === 'X' && e.cat === 'pool');
    expect(chunks.reduce((n, e) => n + e.args.tasks, 0)).toBe(6);
    expect(chunks.every((e) => [pidOf('Process-3'), pidOf('Process-4')].includes(e.pid) && e.dur! > 0)).toBe(true);

    // The text timeline has a row per process, and so has the bundled command's output.
    const text = renderTimeline(file, { width: 90 });
    for (const e of names) expect(text).toContain(`${e.args.name} (pid ${e.pid})`);
    const rows = text.split('\n').filter((l) => l.includes('|'));
    expect(rows).toHaveLength(5);
    expect(rows.every((l) => l.length === 90)).toBe(true);
    const { stdout } = await run(process.execPath, [bin, 'trace', file, '--width', '90']);
    expect(stdout).toBe(text);
  });

  it('startTrace() and stopTrace() write the same kind of file; a file cut short is still rendered', async () => {
    const { file, text, events } = await traced('api.json', 'api');
    expect(events.filter((e) => e.ph === 'M' && e.name === 'process_name')).toHaveLength(5);
    // No side file is left next to it.
    expect(readFileSync(file, 'utf8')).toBe(text);
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, text.slice(0, Math.floor(text.length / 2)));
    expect(renderTimeline(cut)).toMatch(/^MainProcess \(pid \d+\) +\|S/m);
  });

  it('checks its arguments', () => {
    expect(() => startTrace('' as any)).toThrow(/startTrace\(file\): file must be a path such as 'trace.json'/);
    expect(() => startTrace(42 as any)).toThrow(TypeError);
    expect(() => startTrace(join(dir, 'no-such-dir', 't.json'))).toThrow(/cannot write the trace file .*no-such-dir.*ENOENT/);
    expect(() => renderTimeline(join(dir, 'none.json'))).toThrow(/cannot read .*none.json \(ENOENT\)/);
    expect(() => renderTimeline(fixture, { width: 10 })).toThrow(/width must be an integer of at least 40/);
    expect(() => renderTimeline(fixture)).toThrow(/holds no trace events/);
  });

  it('a MULTIPROC_TRACE that cannot be written: the program runs, untraced, with a warning saying why', async () => {
    const file = join(dir, 'no-such-dir', 't.json');
    const { stdout, stderr } = await run(process.execPath, ['-e', "require('multiproc'); console.log('ran')"], { env: { ...process.env, MULTIPROC_TRACE: file } });
    expect(stdout).toBe('ran\n');
    expect(stderr).toMatch(/MultiprocWarning: MULTIPROC_TRACE=.*no-such-dir.*cannot write the trace file .*ENOENT.*the program runs without a trace/);
  });

  it('multiproc: --help, worker (from @multiproc/redis), and a clear error for an unknown command or a missing file', async () => {
    const help = await run(process.execPath, [bin, '--help']);
    expect(help.stdout).toMatch(/Usage: multiproc <command>[\s\S]*trace <file.json> \[--width N\]/);
    expect(help.stdout).toMatch(/worker --redis URL --module FILE +serve a RemotePool/);
    await expect(run(process.execPath, [bin, 'frobnicate'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command 'frobnicate'; the commands are: trace, worker/) });
    // `worker` is @multiproc/redis's command, found in the project (here, the workspace).
    expect((await run(process.execPath, [bin, 'worker', '--help'])).stdout).toMatch(/Runs a local Pool of N processes/);
    await expect(run(process.execPath, [bin, 'worker', '--module', 'tasks.js'], { env: { ...process.env, MULTIPROC_REDIS_URL: '' } })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/--redis URL is required/),
    });
    await expect(run(process.execPath, [bin, 'trace'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/which trace file\?/) });
    await expect(run(process.execPath, [bin, 'trace', 'x.json', '--width', 'wide'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--width must be a whole number/) });
  });
});
