import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as esm from '@multiproc/core';
import { Context, registerContextFactory } from '@multiproc/core/internal';
import { ProcessError } from '@multiproc/errors';

const { Process, getAllStartMethods, getContext, getStartMethod, setStartMethod } = esm;
const targets = new URL('./fixtures/targets.mjs', import.meta.url);

describe('start methods and contexts', () => {
  it('lists spawn, and a context binds Process to its method', async () => {
    expect(getAllStartMethods()).toContain('spawn');
    const ctx = getContext('spawn');
    expect(ctx).toBeInstanceOf(Context);
    expect(ctx.getStartMethod()).toBe('spawn');
    expect(getContext('spawn')).toBe(ctx);
    const p = new ctx.Process({ target: { module: targets, export: 'noop' } });
    expect(p).toBeInstanceOf(Process);
    expect(String(p)).toMatch(/^<SpawnProcess\(Process-\d+, initial\)>$/);
    p.start();
    await p.join();
    expect(p.exitCode).toBe(0);
  });

  it('fixes the start method once: setStartMethod() needs force afterwards', () => {
    expect(getStartMethod(true)).toBeNull();
    setStartMethod('spawn');
    expect(getStartMethod()).toBe('spawn');
    expect(() => setStartMethod('spawn')).toThrow(ProcessError);
    expect(() => setStartMethod('spawn')).toThrow(/already set/);
    setStartMethod('spawn', { force: true });
    setStartMethod(null, true);
    expect(getStartMethod(true)).toBeNull();
    // Asking fixes the default: 'spawn', or the method the suite runs under (MULTIPROC_START_METHOD).
    expect(getStartMethod()).toBe(process.env.MULTIPROC_START_METHOD || 'spawn');
  });

  it('names the legal values for an unknown method', () => {
    expect(() => getContext('fork')).toThrow(/unknown start method the string "fork"; the start methods are 'spawn', 'forkserver'/);
    expect(() => setStartMethod('bogus', true)).toThrow(TypeError);
    expect(() => getContext(3 as any)).toThrow(TypeError);
  });

  it('MULTIPROC_START_METHOD chooses the default; a wrong value says which are legal', () => {
    const saved = process.env.MULTIPROC_START_METHOD;
    const current = getStartMethod(true);
    try {
      setStartMethod(null, true);
      process.env.MULTIPROC_START_METHOD = 'forkserver';
      expect(getStartMethod()).toBe('forkserver');
      setStartMethod(null, true);
      process.env.MULTIPROC_START_METHOD = 'fork';
      expect(() => getStartMethod()).toThrow(/MULTIPROC_START_METHOD is the string "fork", which is not a start method; the start methods are 'spawn', 'forkserver'/);
    } finally {
      if (saved === undefined) delete process.env.MULTIPROC_START_METHOD;
      else process.env.MULTIPROC_START_METHOD = saved;
      setStartMethod(current, true);
    }
  });

  it('registerContextFactory() adds a member bound to each context', () => {
    registerContextFactory('Probe', (ctx) => ({ method: ctx.startMethod }));
    expect((getContext('spawn') as any).Probe).toEqual({ method: 'spawn' });
  });
});

describe('one implementation for import and require', () => {
  it('hands out the same classes and module state to both', () => {
    const cjs = createRequire(import.meta.url)('@multiproc/core') as typeof esm;
    expect(cjs.Process).toBe(esm.Process);
    expect(cjs.currentProcess()).toBe(esm.currentProcess());
    expect(new cjs.Process()).toBeInstanceOf(esm.Process);
  });

  it('the umbrella re-exports the same objects', async () => {
    const umbrella = await import('multiproc');
    expect(umbrella.Process).toBe(esm.Process);
    expect(umbrella.Empty).toBe((await import('@multiproc/errors')).Empty);
    expect(createRequire(import.meta.url)('multiproc').wait).toBe(esm.wait);
  });
});
