import { defineConfig } from 'vitest/config';
import { GRACEFUL_SIGTERM } from '../vitest.package.mts';

export default defineConfig({
  test: {
    name: 'examples',
    include: ['test/**/*.test.ts'],
    setupFiles: [GRACEFUL_SIGTERM],
    // Each test runs an example as a user would, in real processes; some examples sleep 2-3 s.
    testTimeout: 60_000,
  },
});
