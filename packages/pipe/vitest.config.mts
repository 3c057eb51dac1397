import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    setupFiles: ['./test/helpers/setup.ts'],
    // Load our packages' built dist natively, as a user's program does, instead of transformed copies.
    server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
  },
});
