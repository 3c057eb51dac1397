import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runNode } from './helpers/procs';

const scenario = (name: string) => fileURLToPath(new URL(`./fixtures/scenarios/${name}`, import.meta.url));

describe('function targets', () => {
  it('imports an exported function from its ES module, with its imports and state; ships a self-contained one; refuses the rest at start()', async () => {
    const r = await runNode(scenario('esm-targets.mjs')).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toContain('exported a module state! string Process-1');
    expect(r.lines).toContain('arrow b x!');
    expect(r.lines).toContain('default c d!');
    expect(r.lines).toContain('codes 0 0 0');
    // shipped by source: import() of a builtin and of a relative module (resolved from the defining file)
    expect(r.lines).toContain('shipped 7 function hello from helper function');
    expect(r.lines).toContain('shipped 0');
    const free = r.lines.find((l) => l.startsWith('free refused'));
    expect(free).toMatch(/ProcessError: .*reads 'helperUser' from an enclosing scope/);
    expect(r.stdout).toMatch(/export the function from its module/);
    expect(r.lines.find((l) => l.startsWith('bound refused'))).toMatch(/is a bound function/);
    expect(r.lines.find((l) => l.startsWith('native refused'))).toMatch(/is a native function/);
    expect(r.lines).toContain('children 0'); // nothing was spawned for the refused ones
  });

  it('imports an exported function from its CommonJS module and ships one that uses require', async () => {
    const r = await runNode(scenario('cjs-targets.cjs')).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toEqual(['cjs exported a cjs-targets.cjs', 'codes 0', 'cjs shipped 1 function scenarios', 'shipped 0']);
  });

  it('runs exported functions (and ships self-contained ones) of a TypeScript entry point started with a loader', async () => {
    const r = await runNode(scenario('ts-entry.mts'), [], { nodeArgs: ['--import', 'tsx'] }).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toEqual(['ts child 42', 'ts exit 0', 'ts arrow b.ts 1', 'arrow exit 0', 'ts shipped 2 3 inner', 'shipped exit 0']);
  });

  it('runs a subclass overriding run() with its fields as at start(); refuses a subclass that is not exported', async () => {
    const r = await runNode(scenario('subclass.mjs')).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines[0]).toBe('hey from greeter true true 1');
    expect(r.lines[1]).toBe('greeter exit 0 count 0 <Greeter(greeter, stopped)>');
    expect(r.lines[2]).toMatch(/^hidden refused: class Hidden extends Process but is not exported/);
  });
});

describe('module-reference targets', () => {
  it('resolves a relative path from the calling file; names the file or export that does not exist', async () => {
    const r = await runNode(scenario('module-refs.mjs')).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toEqual(['hello rel', 'relative 0', 'default export def', 'default 0', 'missing-file 1', 'missing-export 1']);
    expect(r.stderr).toMatch(/Process Process-3: cannot find the module .*does-not-exist\.mjs/);
    expect(r.stderr).toMatch(/Process Process-4: the module .*targets-here\.mjs has no export 'nope' \(.* exports: default, hello\)/);
  });
});

describe('the main-module guard', () => {
  it('a module that starts processes at top level gets an error explaining the guard, and nothing recurses', async () => {
    const r = await runNode(scenario('no-guard.mjs')).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toEqual(['exit 1']); // the child refused; 'work ran' never printed
    // Under 'forkserver' the spares preloading this main module hit the guard too: the parent may
    // say so once (a MultiprocWarning) before it ends.
    const warned = r.stderr.match(/MultiprocWarning: .*bootstrapping phase/g)?.length ?? 0;
    expect(warned).toBeLessThanOrEqual(1);
    expect(r.stderr.match(/bootstrapping phase/g)).toHaveLength(1 + warned);
    expect(r.stderr).toMatch(/^Process Process-1:\nProcessError: A process was started while this child process was still importing/m);
    expect(r.stderr).toContain('if (isMainModule(import.meta))');
    expect(r.stderr).toContain('if (require.main === module)');
  });
});

describe('a target that throws', () => {
  it('ends with exit code 1 after printing Process <name>: and the stack to stderr, as Python prints the traceback', async () => {
    const r = await runNode(scenario('raises.mjs')).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toEqual(['raises.exitCode = 1', 'rejects.exitCode = 1', 'value.exitCode = 1']);
    expect(r.stderr).toMatch(/^Process raises:\nRangeError: There was an error!\n    at raises \(file:\/\/.*raises\.mjs:\d+:\d+\)/m);
    expect(r.stderr).toMatch(/^Process rejects:\nTypeError: rejected on purpose\n    at rejects /m);
    expect(r.stderr).toMatch(/^Process value:\n\{ not: 'an Error' \}$/m);
  });
});

describe('output', () => {
  it('loses nothing a child writes right before it exits', async () => {
    const r = await runNode(scenario('flood.mjs'), ['20000']).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines).toHaveLength(20001);
    expect(r.lines[19999]).toMatch(/^line 19999 x+$/);
    expect(r.lines[20000]).toBe('exit 0');
  });
});
