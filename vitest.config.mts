import { defineConfig } from 'vitest/config';

// `npm test` runs every package's suite (each with its own vitest.config.mts) in one run.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples'],
  },
});
