import { defineConfig } from 'vitest/config';

/** The test config every package shares; `setupFiles` adds the check that no process is left behind. */
export function packageTestConfig(setupFiles: string[] = []) {
  return defineConfig({
    test: {
      testTimeout: 30_000,
      hookTimeout: 30_000,
      setupFiles,
      // Load our packages' built dist natively, as a user's program does, instead of transformed copies.
      server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
    },
  });
}
