import { defineConfig } from 'vitest/config';

/** Suites installed once per start method, as CPython installs its test suite (test_multiprocessing_<method>). */
const PER_START_METHOD = ['core', 'pipe', 'queue', 'pool', 'shared', 'sync'];
const OTHER_START_METHODS = ['forkserver'];

// `npm test` runs every package's suite (each with its own vitest.config.mts) in one run, and the
// suites above again under each other start method (MULTIPROC_START_METHOD sets the default).
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'examples',
      ...OTHER_START_METHODS.flatMap((method) =>
        PER_START_METHOD.map((pkg) => ({
          extends: `./packages/${pkg}/vitest.config.mts`,
          test: { name: `@multiproc/${pkg}[${method}]`, root: `./packages/${pkg}`, env: { MULTIPROC_START_METHOD: method } },
        })),
      ),
    ],
  },
});
