import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as umbrella from 'multiproc';
import * as core from '@multiproc/core';
import * as errors from '@multiproc/errors';
import * as pipe from '@multiproc/pipe';
import * as queue from '@multiproc/queue';
import * as pool from '@multiproc/pool';
import * as shared from '@multiproc/shared';
import * as sync from '@multiproc/sync';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));

describe('multiproc (umbrella)', () => {
  it('exports everything of errors, core, pipe, queue, pool, shared and sync, as the same objects', () => {
    for (const [name, value] of Object.entries({ ...errors, ...core, ...pipe, ...queue, ...pool, ...shared, ...sync })) {
      expect((umbrella as any)[name], name).toBe(value);
    }
  });

  it('loads no Node built-in module, from require() and import alike (docs/start-methods.md)', () => {
    // Node loads internal ones (the ES module resolver a package's "exports" needs). What an import of
    // any file loads is not counted for ESM: string_decoder (Node's loader reads the file with it), and
    // node:module, which the ES entry takes createRequire from.
    const loaded = `(before) => process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ') && !m.startsWith('NativeModule internal/'))`;
    const anyImport = ['NativeModule string_decoder', 'NativeModule module'];
    const cjs = execFileSync(process.execPath, ['-e', `const before = new Set(process.moduleLoadList); require('multiproc'); console.log(JSON.stringify((${loaded})(before)));`], { encoding: 'utf8' });
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `const before = new Set(process.moduleLoadList); await import('multiproc'); console.log(JSON.stringify((${loaded})(before)));`], { encoding: 'utf8' });
    expect({ cjs: JSON.parse(cjs), esm: JSON.parse(esm).filter((m: string) => !anyImport.includes(m)) }).toEqual({ cjs: [], esm: [] });
  });

  it('reads one file at load: its bundle, not the start part next to it (dist/start.js, read at the first start)', () => {
    const files = execFileSync(process.execPath, ['-e', `const before = new Set(Object.keys(require.cache)); require('multiproc'); console.log(JSON.stringify(Object.keys(require.cache).filter((f) => !before.has(f))));`], { encoding: 'utf8' });
    expect(JSON.parse(files).map((f: string) => f.split(/[\\/]/).slice(-2).join('/'))).toEqual(['dist/index.js']);
  });

  it('works from an .mjs and a .cjs program', () => {
    expect(execFileSync(process.execPath, [fixture('use.mjs')], { encoding: 'utf8' })).toBe('esm child mjs Process-1\nmjs 0 function function\n');
    expect(execFileSync(process.execPath, [fixture('use.cjs')], { encoding: 'utf8' })).toBe('cjs child cjs Process-1\ncjs 0 function function\n');
  });

  // The umbrella is one bundle holding the packages' code: whichever of it and a package loads first
  // defines the classes, and the other hands out the same ones.
  it.each([[[]], [['@multiproc/core']], [['@multiproc/pool', '@multiproc/errors']], [['@multiproc/sync']]])('is one copy of each package, loading %j first', (first) => {
    const out = JSON.parse(execFileSync(process.execPath, [fixture('order.cjs'), ...first], { encoding: 'utf8' }));
    expect(out).toEqual({ loaded: first.length, copies: [], internal: true, got: [2, 4, 6], shared: 2000 });
  });
});
