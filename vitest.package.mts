import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Runs in every test process (vitest.setup.mts). */
export const GRACEFUL_SIGTERM = fileURLToPath(new URL('./vitest.setup.mts', import.meta.url));

/** The test config every package shares; `setupFiles` adds the check that no process is left behind. */
export function packageTestConfig(setupFiles: string[] = []) {
  return defineConfig({
    test: {
      testTimeout: 30_000,
      hookTimeout: 30_000,
      setupFiles: [GRACEFUL_SIGTERM, ...setupFiles],
      // Load our packages' built dist natively, as a user's program does, instead of transformed copies.
      server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } },
    },
  });
}
