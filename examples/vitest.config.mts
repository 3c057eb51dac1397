import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'examples',
    include: ['test/**/*.test.ts'],
    // Each test runs an example as a user would, in real processes; some examples sleep 2-3 s.
    testTimeout: 60_000,
  },
});
