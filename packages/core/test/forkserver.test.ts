import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize } from 'node:v8';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ProcessError } from '@multiproc/errors';
import { forkserverReady, getAllStartMethods, getContext, getForkserverOptions, setForkserverOptions } from '@multiproc/core';
import { childrenOf, liveTagged, runNode, whenGone } from './helpers/procs';

// What is particular to 'forkserver'. Every other Process test runs under it too (the suite's
// second project sets MULTIPROC_START_METHOD=forkserver).
const ctx = getContext('forkserver');
const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'multiproc-forkserver-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tmpFile = () => join(dir, `report-${files++}`);
const readReport = (file: string) => deserialize(readFileSync(file)) as any;
const DEFAULTS = getForkserverOptions();
afterEach(() => setForkserverOptions(DEFAULTS));

describe("the 'forkserver' start method", () => {
  it('is listed, and its context makes ForkserverProcess objects', async () => {
    expect(getAllStartMethods()).toEqual(['spawn', 'forkserver']);
    const p = new ctx.Process({ target: ref('noop') });
    expect(String(p)).toMatch(/^<ForkserverProcess\(Process-\d+, initial\)>$/);
    p.start();
    await p.join();
    expect(p.exitCode).toBe(0);
  });

  it('runs the child in a spare booted before start(), with the environment and working directory of start()', async () => {
    await forkserverReady();
    const spares = childrenOf(process.pid);
    expect(spares.length).toBeGreaterThanOrEqual(DEFAULTS.spares);
    const cwd = process.cwd();
    const file = tmpFile();
    process.env.MULTIPROC_TEST_VALUE = 'set after the spares booted';
    process.chdir(dir);
    const p = new ctx.Process({ target: ref('report'), args: [file] });
    try {
      p.start();
    } finally {
      delete process.env.MULTIPROC_TEST_VALUE;
      process.chdir(cwd);
    }
    expect(spares).toContain(p.pid);
    await p.join();
    expect(p.exitCode).toBe(0);
    const seen = readReport(file);
    expect(seen.pid).toBe(p.pid);
    expect(seen.ppid).toBe(process.pid);
    expect(seen.env).toBe('set after the spares booted');
    expect(seen.cwd).toBe(dir);
    expect(seen.stdin).toBe('');
  });

  it('does not use spares booted with other NODE_* variables (Node reads them only while it boots)', async () => {
    await forkserverReady();
    const stale = childrenOf(process.pid);
    process.env.NODE_MULTIPROC_TEST = '1';
    try {
      const p = new ctx.Process({ target: ref('noop') });
      p.start();
      expect(stale).not.toContain(p.pid);
      await p.join();
      expect(p.exitCode).toBe(0);
      expect(await whenGone(stale)).toEqual([]);
    } finally {
      delete process.env.NODE_MULTIPROC_TEST;
    }
  });

  it('fewer spares, or an idle timeout, end the idle ones; with none, start() boots the child', async () => {
    await forkserverReady();
    const spares = childrenOf(process.pid);
    setForkserverOptions({ idleTimeout: 0 });
    expect(await whenGone(spares)).toEqual([]);
    setForkserverOptions({ idleTimeout: Infinity }); // longer than a timer can wait: never
    await forkserverReady();
    const again = childrenOf(process.pid);
    expect(again).toHaveLength(DEFAULTS.spares);
    setForkserverOptions({ spares: 0 });
    expect(await whenGone(again)).toEqual([]);
    const p = new ctx.Process({ target: ref('exitWith'), args: [3] });
    p.start();
    await p.join();
    expect(p.exitCode).toBe(3);
    expect(childrenOf(process.pid)).toEqual([]);
    expect(await forkserverReady()).toBe(true);
  });

  it('checks its options', () => {
    expect(() => setForkserverOptions({ spares: -1 })).toThrow(/spares must be an integer ≥ 0/);
    expect(() => setForkserverOptions({ spares: 1.5 })).toThrow(TypeError);
    expect(() => setForkserverOptions({ idleTimeout: -1 })).toThrow(/idleTimeout must be a number of seconds ≥ 0, or null/);
    expect(() => setForkserverOptions({ spare: 2 } as any)).toThrow(/unknown option 'spare'; the options are spares, idleTimeout and preload/);
    expect(() => setForkserverOptions({ preload: 'node:fs' as any })).toThrow(/preload must be an array of module specifiers, paths or URLs, got/);
    expect(() => setForkserverOptions({ preload: [''] })).toThrow(/preload\[0\] must be a module specifier, path or URL/);
    expect(() => setForkserverOptions({ preload: ['node:fs', 3 as any] })).toThrow(TypeError);
    expect(() => setForkserverOptions({ preload: ['./no-such-module.mjs'] })).toThrow(/preload\[0\]: cannot find .*no-such-module\.mjs/);
    expect(() => setForkserverOptions({ preload: ['no-such-package-here'] })).toThrow(/preload\[0\]: cannot find the module 'no-such-package-here'/);
    expect(() => setForkserverOptions(null as any)).toThrow(TypeError);
    expect(() => forkserverReady('soon' as any)).toThrow(/timeout must be a number of seconds/);
    expect(getForkserverOptions()).toEqual(DEFAULTS);
  });

  it('a spare that cannot boot fails forkserverReady() with a clear error, and start() as spawn would', async () => {
    // Every Node process started with these options exits with code 3 before running anything.
    const exits = join(dir, 'exits.cjs');
    writeFileSync(exits, 'process.exit(3);\n');
    process.env.NODE_OPTIONS = `--require ${exits}`;
    try {
      await expect(forkserverReady()).rejects.toThrow(ProcessError);
      await expect(forkserverReady()).rejects.toThrow(/spare process ended \(exit code 3\) while booting/);
      const p = new ctx.Process({ target: ref('noop') });
      p.start();
      await p.join();
      expect(p.exitCode).toBe(3);
    } finally {
      delete process.env.NODE_OPTIONS;
    }
  });
});

describe('preloading', () => {
  const script = fileURLToPath(new URL('./fixtures/scenarios/preload.mjs', import.meta.url));
  /** Runs preload.mjs as a program's main module; its top level logs each process that evaluates it. */
  async function run(mode: string) {
    const tag = randomUUID();
    const log = tmpFile();
    writeFileSync(log, '');
    const program = runNode(script, [], { env: { MULTIPROC_TEST_TAG: tag, MULTIPROC_TEST_LOG: log, MULTIPROC_TEST_PRELOAD_MODE: mode } });
    const r = await program.done;
    expect(await whenGone(liveTagged(tag))).toEqual([]); // no spare, no child left behind
    const evaluated = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    const reports = r.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    return { ...r, pid: program.child.pid, evaluated, reports, main: r.lines.filter((l) => l.startsWith('main ')) };
  }

  it("once a child imported the main module for its target, spares import it before start(); its guarded main code runs only in the program", async () => {
    const r = await run('ok');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.lines.filter((l) => l.startsWith('exit '))).toEqual(['exit 0', 'exit 0', 'exit 0']);
    expect(r.main).toEqual([`main ${r.pid}`]);
    // The first child imports it at start (a script's main module is imported by no spare before a
    // child had to); the next ones had it evaluated while their spare waited.
    expect(r.reports.map((x) => x.before)).toEqual([false, true, true]);
    for (const { pid, name } of r.reports) {
      expect(name).toMatch(/^Process-\d+$/);
      expect(r.evaluated.filter((l) => l === `top ${pid}`)).toHaveLength(1); // once, not again at start
    }
  });

  it('a spare that lacks a module noted since it booted is still used, and imports it at start', async () => {
    const r = await runNode(fileURLToPath(new URL('./fixtures/scenarios/spare-reuse.mjs', import.meta.url))).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.at(-1)).toBe('exit 0 0');
    expect(r.lines.slice(0, -1).map((l) => JSON.parse(l))).toEqual([{ bootedBefore: true }, { bootedBefore: true }]);
  });

  it('a script without the guard whose targets live elsewhere is never imported by a spare', async () => {
    const tag = randomUUID();
    const log = tmpFile();
    writeFileSync(log, '');
    const program = runNode(fileURLToPath(new URL('./fixtures/scenarios/unguarded.mjs', import.meta.url)), [], { env: { MULTIPROC_TEST_TAG: tag, MULTIPROC_TEST_LOG: log } });
    const r = await program.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toEqual(['exit 0', 'exit 0', 'exit 0']);
    expect(readFileSync(log, 'utf8')).toBe(`top ${program.child.pid}\n`);
    expect(await whenGone(liveTagged(tag))).toEqual([]);
  });

  it('a main module whose preload throws is warned about once; children import it at start, as under spawn', async () => {
    const r = await run('throws');
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.filter((l) => l.startsWith('exit '))).toEqual(['exit 0', 'exit 0', 'exit 0']);
    expect(r.stderr.match(/MultiprocWarning/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/MultiprocWarning: 'forkserver' spares do not preload the main module file:.*preload\.mjs: Error: only in a started child\. Children import it at start\(\) instead/);
    for (const { before } of r.reports) expect(before).toBe(false);
    expect(r.reports).toHaveLength(3);
  });

  it('a preload module that starts a process at top level gets the guard error, never spawns, and is warned about once', async () => {
    const r = await run('bad-preload');
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.filter((l) => l.startsWith('exit '))).toEqual(['exit 0', 'exit 0', 'exit 0']);
    expect(r.stderr.match(/MultiprocWarning/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/spares do not preload file:.*preload-starts\.mjs: ProcessError: A process was started while this child process was still importing/);
    // The main module is still preloaded (once a child imported it).
    expect(r.reports.map((x) => x.before)).toEqual([false, true, true]);
  });
});

describe('spares and the end of their parent', () => {
  const script = fileURLToPath(new URL('./fixtures/scenarios/forkserver.mjs', import.meta.url));

  it('never keep a program alive, print nothing, and end with it', async () => {
    const tag = randomUUID();
    const run = runNode(script, [], { env: { MULTIPROC_TEST_TAG: tag } });
    const { code, stdout, stderr } = await run.done;
    expect(stderr).toBe('');
    expect(stdout).toBe('child 0 spares 3');
    expect(code).toBe(0);
    expect(await whenGone(liveTagged(tag))).toEqual([]);
  });

  it('end silently when their parent ends while they warm up', async () => {
    // Not a wait for anything: a sweep of moments to end at, so that some fall while the refilled
    // spares boot (~50 ms) and some while they warm up (the few ms before they say they are ready).
    for (let ms = 0; ms <= 120; ms += 12) {
      const tag = randomUUID();
      const { code, stderr } = await runNode(script, ['early', String(ms)], { env: { MULTIPROC_TEST_TAG: tag } }).done;
      expect(await whenGone(liveTagged(tag))).toEqual([]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }
  });

  it('end when their parent is killed with SIGKILL', async () => {
    const tag = randomUUID();
    const run = runNode(script, ['wait'], { env: { MULTIPROC_TEST_TAG: tag } });
    await run.line(/^child 0 spares 3$/);
    expect(liveTagged(tag)).toHaveLength(4); // the program and its spares
    run.child.kill('SIGKILL');
    await run.done;
    expect(await whenGone(liveTagged(tag))).toEqual([]);
  });
});
