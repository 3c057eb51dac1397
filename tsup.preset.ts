// One build for every package: a CommonJS bundle with its declarations. `scripts/esm-wrapper.mjs`
// then adds a thin ESM entry that re-exports it, so a program that loads a package through both
// `import` and `require` still gets one copy of every class and of all module state.
import { defineConfig, type Options } from 'tsup';

export function preset(extra: Options = {}) {
  return defineConfig({
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    target: 'node20',
    platform: 'node',
    dts: { entry: { index: 'src/index.ts' } },
    sourcemap: true,
    // Class names are part of the API: String(p) reads <Process(...)>, errors' names are their classes.
    keepNames: true,
    clean: true,
    ...extra,
  });
}
