// One build for every package: a CommonJS bundle with its declarations. `scripts/esm-wrapper.mjs`
// then adds a thin ESM entry that re-exports it, so a program that loads a package through both
// `import` and `require` still gets one copy of every class and of all module state.
import { existsSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

export function preset(extra: Options = {}) {
  // A package with internals (src/internal.ts, what its sibling packages share) gets their
  // declarations only: their code is in the one bundle, which scripts/esm-wrapper.mjs reaches
  // from dist/internal.js. The declarations share a chunk with index.d.ts, so a class is declared once.
  const internal = existsSync('src/internal.ts') ? { internal: 'src/internal.ts' } : {};
  return defineConfig({
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    target: 'node20',
    platform: 'node',
    dts: { entry: { index: 'src/index.ts', ...internal } },
    sourcemap: true,
    // Not keepNames: its __name() call for every function and class cost ~0.5 ms of each load. Unminified,
    // they keep their own names; scripts/esm-wrapper.mjs checks that every exported one still does
    // (String(p) reads <Process(...)>, errors' names are their classes).
    keepNames: false,
    clean: true,
    ...extra,
  });
}
