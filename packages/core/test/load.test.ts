// What loading core costs is part of its API (docs/start-methods.md): it loads no Node built-in
// module, and no file for @multiproc/errors, which core's own file holds (scripts/embed-packages.mjs)
// and which is still one copy of the error classes.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Runs `code` in a fresh Node process (CommonJS, or ESM with `esm`) and returns what it printed as JSON. */
function probe(code: string, esm = false): any {
  const args = esm ? ['--input-type=module', '-e', code] : ['-e', code];
  return JSON.parse(execFileSync(process.execPath, args, { cwd: here, encoding: 'utf8' }));
}

// Built-in modules Node's own start-up has not loaded: 'NativeModule os', 'NativeModule net', ...
// Node loads internal ones (the ES module resolver a package's "exports" needs). What an import of
// any file loads is not counted for ESM: string_decoder (Node's loader reads the file with it), and
// node:module, which the ES entry takes createRequire from.
const BUILTINS_LOADED = `(before) => process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ') && !m.startsWith('NativeModule internal/'))`;
const ANY_IMPORT = ['NativeModule string_decoder', 'NativeModule module'];

describe('loading @multiproc/core', () => {
  it('loads no Node built-in module, from require() and import alike', () => {
    const cjs = probe(`const before = new Set(process.moduleLoadList); require('@multiproc/core'); console.log(JSON.stringify((${BUILTINS_LOADED})(before)));`);
    const esm = probe(`const before = new Set(process.moduleLoadList); await import('@multiproc/core'); console.log(JSON.stringify((${BUILTINS_LOADED})(before)));`, true);
    expect({ cjs, esm: esm.filter((m: string) => !ANY_IMPORT.includes(m)) }).toEqual({ cjs: [], esm: [] });
  });

  it('compiles its start part (dist/start.js) at the first start, not at load or new Process(), and once', () => {
    const out = probe(`
      const core = require('@multiproc/core');
      const parts = () => Object.keys(require.cache).filter((f) => f.endsWith('start.js')).length;
      const atLoad = parts();
      const p = new core.Process({ target: () => {} });
      const atNew = parts();
      p.start();
      p.join().then(() => {
        const q = new core.Process({ target: () => {} });
        q.start();
        return q.join().then(() => console.log(JSON.stringify({ atLoad, atNew, after: parts(), codes: [p.exitCode, q.exitCode] })));
      });
    `);
    expect(out).toEqual({ atLoad: 0, atNew: 0, after: 1, codes: [0, 0] });
  });

  it('reads no file of @multiproc/errors, and throws the classes that package exports', () => {
    const out = probe(`
      const core = require('@multiproc/core');
      const files = Object.keys(require.cache).filter((f) => f.includes('errors'));
      let thrown;
      try { new core.Process({ target() {} }).join(); } catch (err) { thrown = err; }
      const errors = require('@multiproc/errors');
      console.log(JSON.stringify({ files, same: thrown.constructor === errors.ProcessError, name: errors.ProcessError.name }));
    `);
    expect(out).toEqual({ files: [], same: true, name: 'ProcessError' });
  });
});
