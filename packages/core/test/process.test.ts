import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize } from 'node:v8';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessError } from '@multiproc/errors';
import { activeChildren, cpuCount, currentProcess, parentProcess, Process, type ProcessOptions } from '@multiproc/core';

const targets = new URL('./fixtures/targets.mjs', import.meta.url);
const ref = (name: string) => ({ module: targets, export: name });
const dir = mkdtempSync(join(tmpdir(), 'multiproc-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const tmpFile = () => join(dir, `report-${files++}`);
const readReport = (file: string) => deserialize(readFileSync(file)) as any;

async function run(options: ProcessOptions): Promise<Process> {
  const p = new Process(options);
  p.start();
  await p.join();
  return p;
}

describe('lifecycle', () => {
  it('starts, runs the target in another process, and joins', async () => {
    const file = tmpFile();
    const p = new Process({ target: ref('report'), args: [file, 'a', 2] });
    expect(p.pid).toBeNull();
    expect(p.exitCode).toBeNull();
    expect(p.isAlive()).toBe(false);
    p.start();
    expect(p.pid).toBeGreaterThan(0);
    expect(p.ident).toBe(p.pid);
    expect(p.isAlive()).toBe(true);
    await p.join();
    expect(p.isAlive()).toBe(false);
    expect(p.exitCode).toBe(0);
    const seen = readReport(file);
    expect(seen.args).toEqual(['a', 2]);
    expect(seen.pid).toBe(p.pid);
    expect(seen.ppid).toBe(process.pid);
    expect(seen.name).toBe(p.name);
  });

  it('shows the repr of the documented example through its life', async () => {
    const p = new Process({ target: ref('forever') });
    const n = p.name.slice('Process-'.length);
    expect(String(p)).toBe(`<Process(Process-${n}, initial)>`);
    p.start();
    expect(String(p)).toBe(`<Process(Process-${n}, started)>`);
    p.terminate();
    await p.join();
    expect(String(p)).toBe(`<Process(Process-${n}, stopped[SIGTERM])>`);
    expect(p.exitCode).toBe(-15);
    p.close();
    expect(String(p)).toBe(`<Process(Process-${n}, closed)>`);
    const { inspect } = await import('node:util');
    expect(inspect(p)).toBe(`<Process(Process-${n}, closed)>`);
  });

  it('reprs a daemon, a normal stop and a stop with an exit code', async () => {
    const d = new Process({ target: ref('noop'), daemon: true, name: 'd' });
    expect(String(d)).toBe('<Process(d, initial daemon)>');
    d.start();
    expect(String(d)).toBe('<Process(d, started daemon)>');
    await d.join();
    expect(String(d)).toBe('<Process(d, stopped daemon)>');
    const e = await run({ target: ref('exitWith'), args: [1], name: 'e' });
    expect(String(e)).toBe('<Process(e, stopped[1])>');
  });

  it('joins many times and after the end', async () => {
    const p = await run({ target: ref('noop') });
    await p.join();
    await p.join(0);
    expect(p.exitCode).toBe(0);
  });

  it('join(timeout) resolves after the timeout while the child runs, in seconds', async () => {
    const p = new Process({ target: ref('forever') });
    p.start();
    const t0 = performance.now();
    await p.join(0.2);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(p.isAlive()).toBe(true);
    expect(p.exitCode).toBeNull();
    await p.join(-1); // negative counts as 0
    await p.join({ timeout: 0.05 });
    expect(p.exitCode).toBeNull();
    p.kill();
    await p.join(null);
    expect(p.exitCode).toBe(-9);
    expect(String(p)).toMatch(/stopped\[SIGKILL\]/);
  });

  it('join({ signal }) rejects with an AbortError and leaves the process usable', async () => {
    const p = new Process({ target: ref('forever') });
    p.start();
    const ac = new AbortController();
    const joining = p.join({ signal: ac.signal });
    ac.abort();
    await expect(joining).rejects.toMatchObject({ name: 'AbortError' });
    const already = AbortSignal.abort();
    await expect(p.join({ signal: already })).rejects.toMatchObject({ name: 'AbortError' });
    expect(p.isAlive()).toBe(true);
    p.terminate();
    await p.join();
    expect(p.exitCode).toBe(-15);
  });
});

describe('exit codes', () => {
  it('is 0 when the target returns or its promise resolves', async () => {
    expect((await run({ target: ref('noop') })).exitCode).toBe(0);
    expect((await run({ target: ref('resolvesLater') })).exitCode).toBe(0);
  });

  it('is n for process.exit(n), and process.exitCode is honoured', async () => {
    expect((await run({ target: ref('exitWith'), args: [7] })).exitCode).toBe(7);
    expect((await run({ target: ref('exitWith'), args: [0] })).exitCode).toBe(0);
    expect((await run({ target: ref('setsExitCode'), args: [4] })).exitCode).toBe(4);
  });

  it("is the child's own code when the child hangs after it exited, and the child is ended", async () => {
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    const p = await run({ target: ref('hangsInExit'), args: [5] });
    expect(p.exitCode).toBe(5);
    expect(() => process.kill(p.pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect((await warned).message).toMatch(new RegExp(`process ${p.pid} was still there .* exited with code 5 .*killed it`));
  }, 20_000);

  it('is -15 after terminate() and -9 after kill()', async () => {
    const a = new Process({ target: ref('forever') });
    a.start();
    a.terminate();
    await a.join();
    expect(a.exitCode).toBe(-15);
    const b = new Process({ target: ref('forever') });
    b.start();
    b.kill();
    await b.join();
    expect(b.exitCode).toBe(-9);
    b.terminate(); // a no-op on an ended process, as in Python
    b.kill();
  });
});

describe('arguments', () => {
  it('passes args positionally and kwargs as one extra last argument', async () => {
    const file = tmpFile();
    await run({ target: ref('report'), args: [file, 1, 'two'], kwargs: { three: 3 } });
    expect(readReport(file).args).toEqual([1, 'two', { three: 3 }]);
    const file2 = tmpFile();
    await run({ target: ref('report'), args: [file2], kwargs: {} });
    expect(readReport(file2).args).toEqual([{}]);
  });

  it('carries structured-clone values, cycles, and our errors as their own classes', async () => {
    const { Empty, BufferTooShort } = await import('@multiproc/errors');
    const values: any = {
      map: new Map([[1, 'a']]),
      set: new Set([1]),
      date: new Date(0),
      big: 10n ** 30n,
      buf: Buffer.from('hi'),
      f64: new Float64Array([1.5]),
      empty: new Empty('nothing'),
      short: new BufferTooShort(Buffer.from('abc')),
      plain: new Error('plain'),
    };
    values.self = values;
    const file = tmpFile();
    const p = await run({ target: ref('checkTypes'), args: [file, values] });
    expect(p.exitCode).toBe(0);
    expect(readReport(file)).toEqual({
      map: true, set: true, date: true, bigint: true, buffer: true, typed: true, cycle: true, empty: true, tooShort: true, plainError: true,
    });
  });

  it('refuses an argument that cannot be cloned at start(), before spawning, naming where it is', () => {
    const before = activeChildren().length;
    const p = new Process({ target: ref('noop'), args: [1, { cb: () => 1 }] });
    expect(() => p.start()).toThrow(TypeError);
    expect(() => p.start()).toThrow(/args\[1\]\.cb is a function/);
    expect(p.pid).toBeNull();
    expect(p.isAlive()).toBe(false);
    expect(activeChildren().length).toBe(before);
    const q = new Process({ target: ref('noop'), kwargs: { s: Symbol('x') } });
    expect(() => q.start()).toThrow(/kwargs\.s is a symbol/);
  });
});

describe('bad input', () => {
  const cases: [string, unknown, RegExp][] = [
    ['an unknown option', { target: () => 1, tragets: 1 }, /unknown option 'tragets'/],
    ['group set', { group: 'g' }, /group must be null/],
    ['args not an array', { args: 'abc' }, /args must be an array/],
    ['a target of the wrong type', { target: 42 }, /target must be a function or a module reference/],
    ['a module reference without module', { target: { export: 'x' } }, /target\.module must be/],
    ['a module reference with an unknown key', { target: { module: 'x', exports: 'y' } }, /unknown key 'exports'/],
    ['kwargs not an object', { kwargs: [1] }, /kwargs must be an object/],
    ['a name that is not a string', { name: 5 }, /name must be a string/],
    ['a daemon flag that is not a boolean', { daemon: 'yes' }, /daemon must be true, false or null/],
    ['options that are not an object', 'f', /options must be an object/],
  ];
  it.each(cases)('throws a TypeError for %s', (_what, options, message) => {
    expect(() => new Process(options as ProcessOptions)).toThrow(TypeError);
    expect(() => new Process(options as ProcessOptions)).toThrow(message);
  });

  it('rejects a timeout that is not a number of seconds', async () => {
    const p = await run({ target: ref('noop') });
    expect(() => p.join('1' as any)).toThrow(/timeout must be a number of seconds or null/);
    expect(() => p.join({ timeout: 1, signal: 'x' } as any)).toThrow(/signal must be an AbortSignal/);
    expect(() => p.join({ timeot: 1 } as any)).toThrow(/unknown option 'timeot'/);
  });

  it('refuses to start twice, to join before start, to set daemon after start', async () => {
    const p = new Process({ target: ref('noop') });
    expect(() => p.join()).toThrow(/can only join a started process/);
    expect(() => p.sentinel).toThrow(/not started/);
    expect(() => p.terminate()).toThrow(/not been started/);
    p.start();
    expect(() => p.start()).toThrow(/cannot start a process twice/);
    expect(() => {
      p.daemon = true;
    }).toThrow(/already started/);
    await p.join();
  });

  it('checks the setters', () => {
    const p = new Process();
    expect(() => {
      p.name = 3 as any;
    }).toThrow(TypeError);
    expect(() => {
      p.daemon = 1 as any;
    }).toThrow(TypeError);
    expect(() => {
      p.authkey = 'abc' as any;
    }).toThrow(TypeError);
    p.name = 'renamed';
    p.daemon = true;
    expect(String(p)).toBe('<Process(renamed, initial daemon)>');
  });

  it('close() throws while the child runs; afterwards most methods throw', async () => {
    const p = new Process({ target: ref('forever') });
    p.start();
    expect(() => p.close()).toThrow(/still running/);
    p.kill();
    await p.join();
    p.close();
    p.close(); // closing twice is fine
    for (const use of [() => p.start(), () => p.join(), () => p.isAlive(), () => p.terminate(), () => p.exitCode, () => p.sentinel]) {
      expect(use).toThrow(ProcessError);
      expect(use).toThrow(/closed/);
    }
    expect(p.name).toMatch(/^Process-/);
  });
});

describe('identity', () => {
  it('names processes Process-N, counting every Process created here', () => {
    const a = new Process();
    const b = new Process({ name: 'explicit' });
    const c = new Process();
    const n = Number(a.name.split('-')[1]);
    expect(b.name).toBe('explicit');
    expect(c.name).toBe(`Process-${n + 2}`);
  });

  it('the main process is MainProcess with no parent', () => {
    const me = currentProcess();
    expect(me.name).toBe('MainProcess');
    expect(me.pid).toBe(process.pid);
    expect(me.isAlive()).toBe(true);
    expect(me.daemon).toBe(false);
    expect(String(me)).toBe('<Process(MainProcess, started)>');
    expect(() => me.join()).toThrow(/cannot join itself/);
    expect(() => me.start()).toThrow(/twice/);
    expect(parentProcess()).toBeNull();
    expect(me.authkey).toBeInstanceOf(Buffer);
    expect(me.authkey.length).toBe(32);
    expect(currentProcess()).toBe(me);
  });

  it('a child knows itself, its parent, the authkey; its stdin is /dev/null; env and cwd are the parent\'s', async () => {
    const file = tmpFile();
    process.env.MULTIPROC_TEST_VALUE = 'from-parent';
    const p = new Process({ target: ref('report'), args: [file], name: 'reporter' });
    p.start();
    delete process.env.MULTIPROC_TEST_VALUE;
    await p.join();
    const seen = readReport(file);
    expect(seen.name).toBe('reporter');
    expect(seen.daemon).toBe(false);
    expect(Buffer.from(seen.authkey).equals(currentProcess().authkey)).toBe(true);
    expect(seen.parent).toEqual({ name: 'MainProcess', pid: process.pid, alive: true });
    expect(seen.stdin).toBe('');
    expect(seen.env).toBe('from-parent');
    expect(seen.cwd).toBe(process.cwd());
  });

  it('names a grandchild Process-N:M', async () => {
    const file = tmpFile();
    const p = await run({ target: ref('spawnsChild'), args: [file] });
    expect(p.exitCode).toBe(0);
    const seen = readReport(file);
    expect(seen.name).toBe(`${p.name}:1`);
    expect(seen.parent.name).toBe(p.name);
    expect(seen.ppid).toBe(p.pid);
  });

  it('a daemon flag is inherited, and a daemonic process cannot start children', async () => {
    const p = await run({ target: ref('startsChildInDaemon'), daemon: true });
    expect(p.exitCode).toBe(3);
  });

  it('activeChildren() lists live children and reaps ended ones; cpuCount() counts CPUs', async () => {
    const p = new Process({ target: ref('forever') });
    p.start();
    expect(activeChildren()).toContain(p);
    p.terminate();
    await p.join();
    expect(activeChildren()).not.toContain(p);
    expect(Number.isInteger(cpuCount()) && cpuCount() >= 1).toBe(true);
  });
});

describe('module-reference targets', () => {
  it('ends with exit code 1 and names the file when the module does not exist', async () => {
    const p = await run({ target: { module: new URL('./fixtures/nope.mjs', import.meta.url) } });
    expect(p.exitCode).toBe(1);
  });

  it('runs an export of a package (a bare specifier)', async () => {
    expect((await run({ target: { module: 'node:process', export: 'exit' }, args: [5] })).exitCode).toBe(5);
  });
});
