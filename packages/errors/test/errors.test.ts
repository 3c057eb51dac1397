import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as esm from '@multiproc/errors';

const cjs = createRequire(import.meta.url)('@multiproc/errors') as typeof esm;
const names = ['ProcessError', 'BufferTooShort', 'AuthenticationError', 'TimeoutError', 'EOFError', 'Empty', 'Full', 'BrokenBarrierError'] as const;

describe('@multiproc/errors', () => {
  it('exports exactly the classes of the contract', () => {
    expect(Object.keys(esm).sort()).toEqual([...names].sort());
  });

  it.each(names)('%s extends ProcessError and Error, and its name is the class name', (name) => {
    const Cls = esm[name] as any;
    const err = name === 'BufferTooShort' ? new Cls(Buffer.from('x')) : new Cls('boom');
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(esm.ProcessError);
    expect(err).toBeInstanceOf(Cls);
    expect(err.name).toBe(name);
    expect(Object.keys(err)).not.toContain('name');
    expect(String(err)).toMatch(new RegExp(`^${name}: `));
  });

  it('keeps sibling classes apart', () => {
    expect(new esm.Empty('x')).not.toBeInstanceOf(esm.Full);
    expect(new esm.ProcessError('x')).not.toBeInstanceOf(esm.EOFError);
    expect(new Error('x')).not.toBeInstanceOf(esm.ProcessError);
    expect(null).not.toBeInstanceOf(esm.ProcessError);
  });

  it('loads one implementation through import and require, so instanceof holds across them', () => {
    expect(cjs.Empty).toBe(esm.Empty);
    expect(new cjs.Empty('x')).toBeInstanceOf(esm.Empty);
    expect(new esm.BufferTooShort(Buffer.alloc(1))).toBeInstanceOf(cjs.ProcessError);
  });

  it('recognises an error made by another copy of the package (a different class object)', () => {
    // A second copy of the package (as another version would be: one copy per version and
    // process, see scripts/once-per-process.mjs): same brand, different class objects.
    const other = createRequire(import.meta.url).resolve('@multiproc/errors');
    const require2 = createRequire(import.meta.url);
    const registry = (globalThis as any)[Symbol.for('multiproc.packages')];
    const key = Object.keys(registry).find((k) => k.startsWith('@multiproc/errors@'))!;
    const first = registry[key];
    delete require2.cache[other];
    delete registry[key];
    let copy: typeof esm;
    try {
      copy = require2('@multiproc/errors') as typeof esm;
    } finally {
      registry[key] = first;
    }
    expect(copy.Full).not.toBe(esm.Full);
    expect(new copy.Full('x')).toBeInstanceOf(esm.Full);
    expect(new copy.Full('x')).toBeInstanceOf(esm.ProcessError);
    expect(new esm.Full('x')).not.toBeInstanceOf(copy.Empty);
  });

  it('lets user subclasses use the ordinary instanceof', () => {
    class MyError extends esm.ProcessError {}
    expect(new MyError('x')).toBeInstanceOf(MyError);
    expect(new MyError('x')).toBeInstanceOf(esm.ProcessError);
    expect(new esm.ProcessError('x')).not.toBeInstanceOf(MyError);
  });

  it('BufferTooShort carries the whole message as data', () => {
    const data = Buffer.from('hello world');
    const err = new esm.BufferTooShort(data);
    expect(err.data).toBe(data);
    expect(err.message).toContain('11 bytes');
  });

  it('keeps a cause', () => {
    const cause = new Error('inner');
    expect(new esm.ProcessError('outer', { cause }).cause).toBe(cause);
  });
});
